import path from 'node:path';
import type { z } from 'zod';
import type { contract } from '../../../shared/api/contract.js';
import { AppError, type ErrorCode } from '../../../shared/errors.js';
import type { Run } from '../../../shared/jobs.js';
import type { ProjectRecord } from '../../catalog/projects.js';
import { sourceOf } from '../../jobs/engine-adapter.js';
import { restoreJob } from '../../jobs/specs.js';
import type { RestoreRequest } from '../../jobs/types.js';
import { assertEmptyOrMissing, restoreSelector } from '../../operations/restore.js';
import type { PlannedRestore } from '../../sources/firestore/restore.js';
import { indexOf, resolveRef } from './backup-ref.js';
import type { HandlerContext, HandlersFor } from './context.js';

type PlanInput = z.output<(typeof contract)['restore.plan']['input']>;

interface Prepared {
  request: RestoreRequest;
  targetProject?: ProjectRecord;
  destination: Awaited<ReturnType<typeof resolveRef>>['destination'];
  /** How the target is named to the user. */
  label: string;
  /** What a real run is confirmed with: the target's project id; null for a folder. */
  confirmWith: string | null;
}

/** The run of a job that must succeed, or its error, thrown as the AppError it was. */
function succeeded(run: Run): Run {
  if (run.status === 'succeeded') return run;
  throw new AppError(
    (run.error?.code as ErrorCode | undefined) ?? 'INTERNAL',
    run.error?.message ?? `The restore ${run.status}.`,
  );
}

export function restoreHandlers(
  context: HandlerContext,
): HandlersFor<'restore.plan' | 'restore.start'> {
  const { runtime, keyring } = context;

  /** The restore operation's request for a contract input; the same for plan and run. */
  const prepare = async (input: PlanInput, dryRun: boolean): Promise<Prepared> => {
    const { destination, backup } = await resolveRef(context, input.destinationId, input.backupId);
    const common = {
      backup,
      keyring,
      collections: input.collections ?? [],
      paths: input.paths ?? [],
    };
    const t = input.target;
    if (t.kind === 'folder') {
      if (input.mode !== 'create') {
        throw new AppError(
          'INVALID_ARGUMENT',
          `A restore into a folder writes new files into an empty folder: mode "${input.mode}" does not apply there. Use mode create.`,
        );
      }
      const directory = path.resolve(t.directory);
      return {
        request: { target: 'dir', ...common, directory },
        destination,
        label: directory,
        confirmWith: null,
      };
    }
    const project = t.kind === 'project' ? runtime.catalog.projects.get(t.projectId) : undefined;
    const target =
      t.kind === 'project'
        ? sourceOf(project!)
        : { projectId: t.firebaseProjectId, databaseId: t.databaseId, emulatorHost: t.host };
    return {
      request: { ...common, target, mode: input.mode, dryRun },
      ...(project ? { targetProject: project } : {}),
      destination,
      label: `${target.projectId}/${target.databaseId ?? '(default)'}`,
      confirmWith: target.projectId,
    };
  };

  const start = (p: Prepared) =>
    runtime.jobs.start(
      restoreJob(runtime, {
        options: p.request,
        destination: p.destination,
        ...(p.targetProject ? { targetProject: p.targetProject } : {}),
      }),
    );

  return {
    'restore.plan': async (input) => {
      const prepared = await prepare(input, true);
      const index = await indexOf(context, input.destinationId, input.backupId);
      const collections = index.countByRoot(restoreSelector(prepared.request));
      const documents = collections.reduce((n, c) => n + c.documents, 0);
      const { counts } = await runtime.engine.list(prepared.destination).then(
        (all) => all.find((b) => b.id === input.backupId) ?? { counts: null },
        () => ({ counts: null }),
      );
      const otherSources = Object.fromEntries(
        Object.entries(counts ?? {}).filter(([k, n]) => !k.startsWith('firestore.') && n > 0),
      );
      const base = {
        target: prepared.label,
        confirmWith: prepared.confirmWith,
        mode: input.mode,
        collections,
        documents,
        otherSources,
      };
      if (prepared.request.target === 'dir') {
        await assertEmptyOrMissing(prepared.request.directory);
        return {
          ...base,
          jobId: null,
          planned: {
            create: documents,
            overwrite: 0,
            merge: 0,
            skip: 0,
            delete: 0,
            deletePaths: [],
          },
        };
      }
      const job = start(prepared);
      const run = succeeded(await job.done);
      const planned = (run.detail as { planned?: PlannedRestore } | null)?.planned;
      if (!planned) throw new AppError('INTERNAL', 'The dry run reported no plan.');
      return { ...base, jobId: job.id, planned };
    },

    'restore.start': async ({ confirm, ...input }) => {
      const prepared = await prepare(input, false);
      const expected = prepared.confirmWith ?? prepared.label;
      if (confirm.trim() !== expected) {
        throw new AppError(
          'INVALID_ARGUMENT',
          `To restore into ${prepared.label}, confirm by typing ${prepared.confirmWith ? 'the target project id' : 'the folder'} "${expected}" exactly (got "${confirm}"). Nothing was written.`,
        );
      }
      return { jobId: start(prepared).id };
    },
  };
}
