import { z } from 'zod';
import { ScheduleInputSchema } from '../../shared/schedules.js';
import type { Catalog } from './catalog.js';
import { ProjectInputSchema } from './projects.js';

/**
 * A schedule as kept in its destination (see operations/schedules-object.ts): everything
 * needed to re-create it and its project record, under its old id (so it still owns its
 * backups for retention). No secrets: a service account is a file path, destination
 * credentials come from the environment.
 */
export const StoredScheduleSchema = ScheduleInputSchema.omit({
  projectId: true,
  destinationId: true,
}).extend({
  id: z.string().min(1),
  createdAt: z.string(),
  project: ProjectInputSchema,
});
export type StoredSchedule = z.infer<typeof StoredScheduleSchema>;

/** The schedules that target one destination, in the form kept there. */
export function storedSchedulesFor(catalog: Catalog, destinationId: string): StoredSchedule[] {
  return catalog.schedules
    .list()
    .filter((s) => s.destinationId === destinationId)
    .map(({ projectId, destinationId: _d, lastScheduledFor: _l, ...s }) => {
      const { id: _id, createdAt: _c, ...project } = catalog.projects.get(projectId);
      return { ...s, project };
    });
}

export interface RestoredSchedules {
  restored: string[];
  /** Already in the catalog (same id). */
  present: string[];
  /** Could not be restored, with why (a name now taken, an invalid entry). */
  skipped: { name: string; reason: string }[];
}

/** Re-creates the kept schedules the catalog lacks; never touches ones it has. */
export function restoreStoredSchedules(
  catalog: Catalog,
  destinationId: string,
  kept: readonly unknown[],
): RestoredSchedules {
  const result: RestoredSchedules = { restored: [], present: [], skipped: [] };
  const known = new Set(catalog.schedules.list().map((s) => s.id));
  for (const entry of kept) {
    const parsed = StoredScheduleSchema.safeParse(entry);
    if (!parsed.success) {
      const name = (entry as { name?: unknown } | null)?.name;
      result.skipped.push({
        name: typeof name === 'string' ? name : '(unnamed)',
        reason: 'not a valid schedule entry',
      });
      continue;
    }
    const { project, ...s } = parsed.data;
    if (known.has(s.id)) {
      result.present.push(s.name);
      continue;
    }
    try {
      const projectRecord = catalog.projects.upsert(project);
      catalog.schedules.restore({ ...s, projectId: projectRecord.id, destinationId });
      result.restored.push(s.name);
    } catch (error) {
      result.skipped.push({ name: s.name, reason: (error as Error).message });
    }
  }
  return result;
}
