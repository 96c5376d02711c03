import type { Schedule } from '../../../shared/schedules.js';
import { formatInZone } from '../../../shared/time-zones.js';
import { keepSchedulesInDestination } from '../../operations/keep-schedules.js';
import { applyRetention } from '../../scheduler/retention.js';
import { nextOccurrence, validateCron } from '../../scheduler/cron.js';
import {
  describeScope,
  scopedCandidates,
  selectionOf,
  type RetentionScope,
} from '../../scheduler/retention-scope.js';
import { announceScheduleChange, type ScheduleChange } from '../schedule-events.js';
import type { HandlerContext, HandlersFor } from './context.js';

type Methods =
  | 'schedules.create'
  | 'schedules.update'
  | 'schedules.pause'
  | 'schedules.resume'
  | 'schedules.remove'
  | 'schedules.preview'
  | 'schedules.retentionPreview';

export function scheduleEditHandlers({ runtime, keyring }: HandlerContext): HandlersFor<Methods> {
  const { catalog } = runtime;

  /** Announces a change and keeps the destination's copy of its schedules current. */
  const changed = async (change: ScheduleChange['change'], schedule: Schedule) => {
    announceScheduleChange(catalog, { change, schedule });
    const kept = await keepSchedulesInDestination(
      catalog,
      catalog.destinations.get(schedule.destinationId),
      keyring,
      runtime.openDestination,
    );
    return kept.saved
      ? { schedule, savedInDestination: true }
      : {
          schedule,
          savedInDestination: false,
          warning: `The schedules were not saved in the destination (${kept.problem}). The catalog has them and runs them, but a catalog rebuild can only bring back schedules saved there.`,
        };
  };

  return {
    'schedules.create': async (input) => {
      // Unknown ids are refused with a clear message before anything is written.
      catalog.projects.get(input.projectId);
      catalog.destinations.get(input.destinationId);
      return changed('created', catalog.schedules.add(input));
    },
    'schedules.update': async ({ id, changes }) => {
      if (changes.projectId) catalog.projects.get(changes.projectId);
      if (changes.destinationId) catalog.destinations.get(changes.destinationId);
      return changed('updated', catalog.schedules.update(id, changes));
    },
    'schedules.pause': async ({ id }) =>
      changed('updated', catalog.schedules.update(id, { enabled: false })),
    'schedules.resume': async ({ id }) =>
      changed('updated', catalog.schedules.update(id, { enabled: true })),
    'schedules.remove': async ({ id }) => changed('removed', catalog.schedules.remove(id)),

    'schedules.preview': async ({ cron, timeZone, count, after }) => {
      validateCron(cron, timeZone);
      const runs: { at: string; local: string }[] = [];
      let from = after ? new Date(after) : runtime.clock.now();
      for (let i = 0; i < count; i++) {
        try {
          from = nextOccurrence(cron, timeZone, from);
        } catch {
          break; // no further occurrence (a date that never comes again)
        }
        runs.push({ at: from.toISOString(), local: formatInZone(from, timeZone) });
      }
      return { runs };
    },

    'schedules.retentionPreview': async (input) => {
      let scope: RetentionScope;
      let destinationId: string;
      let scheduleName: string | undefined;
      if (input.scheduleId) {
        const s = catalog.schedules.get(input.scheduleId);
        const project = catalog.projects.get(s.projectId);
        scope = {
          firebaseProjectId: project.firebaseProjectId,
          databaseId: project.databaseId,
          scheduleId: s.id,
          selection: selectionOf(s.scope),
        };
        destinationId = s.destinationId;
        scheduleName = s.name;
      } else {
        const project = catalog.projects.get(input.projectId!);
        scope = {
          firebaseProjectId: project.firebaseProjectId,
          databaseId: input.scope.database ?? project.databaseId,
          scheduleId: null,
          selection: selectionOf(input.scope),
        };
        destinationId = catalog.destinations.get(input.destinationId!).id;
      }
      const { candidates, emptyIgnored } = scopedCandidates(
        catalog.backups.list({ destinationId }),
        scope,
        { allowEmpty: input.allowEmpty },
      );
      const decision = applyRetention(candidates, input.retention, input.timeZone);
      const createdAt = new Map(candidates.map((c) => [c.id, c.createdAt.toISOString()]));
      return {
        scope: describeScope(scope, scheduleName),
        keep: decision.keep.map((k) => ({ ...k, createdAt: createdAt.get(k.id)! })),
        prune: decision.remove.map((r) => ({ id: r.id, createdAt: createdAt.get(r.id)! })),
        emptyIgnored,
      };
    },
  };
}
