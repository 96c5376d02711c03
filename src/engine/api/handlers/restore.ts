import path from 'node:path';
import type { z } from 'zod';
import type { contract } from '../../../shared/api/contract.js';
import {
  SOURCE_COUNT_KEYS,
  SOURCE_LABELS,
  type SourcePlan,
} from '../../../shared/api/methods/restore.js';
import { AppError, type ErrorCode } from '../../../shared/errors.js';
import type { Run } from '../../../shared/jobs.js';
import type { ProjectRecord } from '../../catalog/projects.js';
import { EMULATOR_SETTINGS, sourceConnections, sourceOf } from '../../jobs/engine-adapter.js';
import { restoreJob } from '../../jobs/specs.js';
import type { RestoreRequest } from '../../jobs/types.js';
import { storageSelection } from '../../operations/backup-sources.js';
import { readManifest } from '../../operations/manifest.js';
import type { ResolvedBackup } from '../../operations/resolve-backup.js';
import { assertEmptyOrMissing, restoreSelector } from '../../operations/restore.js';
import {
  assertModeFitsSources,
  type RestoreToProjectOptions,
} from '../../operations/restore-project.js';
import type { SourceName } from '../../operations/source-records.js';
import { parseTenantMap } from '../../sources/auth/tenants.js';
import type { PlannedRestore } from '../../sources/firestore/restore.js';
import type { RestorePlan as SourceRestorePlan } from '../../sources/restore-tally.js';
import { indexOf, resolveRef } from './backup-ref.js';
import type { HandlerContext, HandlersFor } from './context.js';

type PlanInput = z.output<(typeof contract)['restore.plan']['input']>;

interface Prepared {
  request: RestoreRequest;
  /** What the backup holds (its manifest). */
  held: Held;
  /** The sources this restore writes. */
  sources: SourceName[];
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

interface Held {
  project: string | undefined;
  sources: SourceName[];
  counts: Record<string, number>;
}

const SOURCE_NAMES = Object.keys(SOURCE_LABELS) as SourceName[];

/** The backup's sources, project and counts, from its (authenticated) manifest. */
async function heldBy(
  context: HandlerContext,
  backup: ResolvedBackup,
  backupId: string,
): Promise<Held> {
  const m = await readManifest(backup.destination, backupId, context.keyring);
  const named = SOURCE_NAMES.filter((s) => m.sources.includes(s));
  return {
    project: m.project,
    // Manifests from before the other sources name none: Firestore only.
    sources: named.length ? named : ['firestore'],
    counts: m.counts,
  };
}

/** The sources asked for (default: all the backup holds), each one the backup must hold. */
function chosenSources(held: Held, asked: SourceName[] | undefined): SourceName[] {
  if (!asked) return held.sources;
  const missing = asked.filter((s) => !held.sources.includes(s));
  if (missing.length > 0) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `The backup holds no ${missing.map((s) => SOURCE_LABELS[s]).join(' or ')}: it holds ${held.sources.map((s) => SOURCE_LABELS[s]).join(', ')}. Untick the others.`,
    );
  }
  return SOURCE_NAMES.filter((s) => asked.includes(s));
}

/** The target project's default bucket, or a sentence saying to name one. */
async function defaultBucketOf(
  projectId: string,
  storage: Parameters<typeof storageSelection>[1],
): Promise<string | undefined> {
  try {
    return (await storageSelection(projectId, storage)).buckets[0];
  } catch (error) {
    if (!(error instanceof AppError) || error.code !== 'NOT_FOUND') throw error;
    throw new AppError(
      'NOT_FOUND',
      `${projectId} has no default Storage bucket to restore the files into: name the bucket (toBucket), or untick Storage files.`,
    );
  }
}

/** The dry run's plan of one source, in the contract's shape. */
function sourcePlan(planned: SourceRestorePlan | undefined, mergeMode: boolean) {
  if (!planned) return null;
  // Auth's merge mode merges into existing users: what it counts as overwritten.
  return {
    create: planned.create,
    overwrite: mergeMode ? 0 : planned.overwrite,
    merge: mergeMode ? planned.overwrite : 0,
    skip: planned.skip,
  };
}

export function restoreHandlers(
  context: HandlerContext,
): HandlersFor<'restore.plan' | 'restore.start'> {
  const { runtime, keyring } = context;

  /** The restore operation's request for a contract input; the same for plan and run. */
  const prepare = async (input: PlanInput, dryRun: boolean): Promise<Prepared> => {
    const { destination, backup } = await resolveRef(context, input.destinationId, input.backupId);
    const held = await heldBy(context, backup, input.backupId);
    const sources = chosenSources(held, input.sources);
    const common = {
      backup,
      keyring,
      collections: input.collections ?? [],
      paths: input.paths ?? [],
      sources,
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
        held,
        sources,
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
    const others = sources.filter((s) => s !== 'firestore');
    assertModeFitsSources(input.mode, others);
    return {
      request: {
        ...common,
        target,
        mode: input.mode,
        dryRun,
        ...(others.length ? { others: await otherTargets(input, target, held, others) } : {}),
      },
      held,
      sources,
      ...(project ? { targetProject: project } : {}),
      destination,
      label: `${target.projectId}/${target.databaseId ?? '(default)'}`,
      confirmWith: target.projectId,
    };
  };

  /**
   * Where Auth, RTDB and Storage go: the target project's, reached as its Firestore is
   * (credentials, or the daemon's emulators for an emulator), with the choices made.
   */
  const otherTargets = async (
    input: PlanInput,
    target: RestoreToProjectOptions['target'],
    held: Held,
    others: SourceName[],
  ): Promise<NonNullable<RestoreToProjectOptions['others']>> => {
    const reach = sourceConnections(target);
    if (target.emulatorHost) {
      // Never the real service with emulator settings: say which emulator is missing.
      for (const s of others) {
        if (s !== 'firestore' && !reach[s].emulatorHost) {
          throw new AppError(
            'INVALID_ARGUMENT',
            `Restoring ${SOURCE_LABELS[s]} into an emulator needs that source's emulator too: start the app with ${EMULATOR_SETTINGS[s]}=<host:port>, or untick ${SOURCE_LABELS[s]}.`,
          );
        }
      }
    }
    // Into another project, the objects' own buckets are not the target's: its default one.
    const bucket =
      input.toBucket ??
      (others.includes('storage') && held.project !== undefined && held.project !== target.projectId
        ? await defaultBucketOf(target.projectId, reach.storage)
        : undefined);
    return {
      auth: reach.auth,
      storage: { ...reach.storage, ...(bucket ? { bucket } : {}) },
      rtdb: {
        ...reach.rtdb,
        ...(input.rtdbPaths?.length ? { paths: input.rtdbPaths } : {}),
        ...(input.toRtdbInstance ? { instance: input.toRtdbInstance } : {}),
      },
      ...(input.tenantMap?.trim() ? { tenantMap: parseTenantMap(input.tenantMap) } : {}),
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
      const { held, sources } = prepared;
      const firestore = sources.includes('firestore');
      const index = firestore
        ? await indexOf(context, input.destinationId, input.backupId)
        : undefined;
      const collections = index?.countByRoot(restoreSelector(prepared.request)) ?? [];
      const documents = collections.reduce((n, c) => n + c.documents, 0);
      const otherSources = Object.fromEntries(
        Object.entries(held.counts).filter(([k, n]) => !k.startsWith('firestore.') && n > 0),
      );
      const base = {
        target: prepared.label,
        confirmWith: prepared.confirmWith,
        mode: input.mode,
        collections,
        documents,
        otherSources,
      };
      const items = (s: SourceName): number =>
        s === 'firestore' ? documents : (held.counts[SOURCE_COUNT_KEYS[s]] ?? 0);
      const none = { create: 0, overwrite: 0, merge: 0, skip: 0 };
      if (prepared.request.target === 'dir') {
        await assertEmptyOrMissing(prepared.request.directory);
        return {
          ...base,
          jobId: null,
          planned: { ...none, create: documents, delete: 0, deletePaths: [] },
          sources: held.sources.map((s) => ({
            source: s,
            items: items(s),
            included: sources.includes(s),
            planned: sources.includes(s) ? { ...none, create: items(s) } : null,
          })),
        };
      }
      const job = start(prepared);
      const run = succeeded(await job.done);
      const detail = (run.detail ?? {}) as {
        planned?: PlannedRestore;
        auth?: { planned?: SourceRestorePlan };
        rtdb?: { planned?: SourceRestorePlan };
        storage?: { planned?: SourceRestorePlan };
      };
      const planned = firestore
        ? detail.planned
        : { ...none, delete: 0, deletePaths: [] as string[] };
      if (!planned) throw new AppError('INTERNAL', 'The dry run reported no plan.');
      const perSource = held.sources.map((s): SourcePlan => ({
        source: s,
        items: items(s),
        included: sources.includes(s),
        planned: !sources.includes(s)
          ? null
          : s === 'firestore'
            ? {
                create: planned.create,
                overwrite: planned.overwrite,
                merge: planned.merge,
                skip: planned.skip,
              }
            : sourcePlan(detail[s]?.planned, s === 'auth' && input.mode === 'merge'),
      }));
      return { ...base, jobId: job.id, planned, sources: perSource };
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
