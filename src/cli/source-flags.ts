/**
 * Flags for the sources besides Firestore (Auth users, Realtime Database, Storage
 * objects), shared by `backup` and `restore`: which sources, the emulators to use, the
 * RTDB instances and paths, the buckets and prefix.
 */
import type { Command } from 'commander';
import { AppError } from '../shared/errors.js';
import type { OpenAuthOptions } from '../engine/sources/auth/connection.js';
import type { OpenFirestoreOptions } from '../engine/sources/firestore/connection.js';
import type { OpenRtdbOptions } from '../engine/sources/rtdb/connection.js';
import { RTDB_READER_HEAP_MB } from '../engine/sources/rtdb/worker-export.js';
import type { OpenStorageSourceOptions } from '../engine/sources/storage/connection.js';
import { parseTenantMap } from '../engine/sources/auth/tenants.js';
import { parseSources, type SourceName } from '../engine/operations/source-records.js';
import { crossCheckLines, type CrossCheckReport } from '../engine/operations/cross-checks.js';
import type { SalvagedSources } from '../engine/operations/restore-salvage.js';
import type { SourceCounts } from '../engine/operations/source-tally.js';
import { listFlag, type CliIO } from './context.js';
import { formatBytes, formatCount } from './output.js';

export interface OtherSourceFlags {
  sources?: SourceName[];
  authEmulator?: string;
  storageEmulator?: string;
  buckets?: string[];
  storagePrefix?: string;
  toBucket?: string;
  tenantMap?: Record<string, string>;
  rtdbEmulator?: string;
  rtdbInstances?: string[];
  rtdbPaths?: string[];
  toRtdbInstance?: string;
  rtdbMemory?: number;
}

export function addOtherSourceFlags(command: Command, verb: 'backup' | 'restore'): Command {
  command
    .option(
      '--sources <list>',
      verb === 'backup'
        ? 'what to back up: firestore,auth,rtdb,storage (default: every source the credentials can read)'
        : 'what to restore: firestore,auth,rtdb,storage (default: firestore into a project, everything into a folder)',
      parseSources,
    )
    .option(
      '--auth-emulator <host:port>',
      'use a Firebase Auth emulator (default: $FIREBASE_AUTH_EMULATOR_HOST)',
    )
    .option(
      '--storage-emulator <host:port>',
      'use a Firebase Storage emulator (default: $FIREBASE_STORAGE_EMULATOR_HOST)',
    )
    .option(
      '--rtdb-emulator <host:port>',
      'use a Realtime Database emulator (default: $FIREBASE_DATABASE_EMULATOR_HOST)',
    )
    .option(
      '--rtdb-paths <paths>',
      `only these Realtime Database paths (comma-separated, like /users,/rooms) ${verb === 'backup' ? 'are read' : 'are restored'} (default: whole trees)`,
      listFlag,
    );
  if (verb === 'backup') {
    command
      .option(
        '--buckets <names>',
        'Storage buckets to back up (default: the project default bucket)',
        listFlag,
      )
      .option('--storage-prefix <prefix>', 'only Storage objects whose name starts with this')
      .option(
        '--rtdb-instances <names>',
        'Realtime Database instances to back up (default: every instance of the project)',
        listFlag,
      )
      .option(
        '--rtdb-memory <MB>',
        `heap of the Realtime Database reader, for a tree whose top-level nodes are very large (default: ${RTDB_READER_HEAP_MB})`,
        parseReaderHeap,
      );
  } else {
    command
      .option(
        '--to-rtdb-instance <name>',
        'restore the Realtime Database into this instance (default: the instance of the same name; the default instance into the target project’s default)',
      )
      .option(
        '--to-bucket <name>',
        'restore Storage objects into this bucket (default: the buckets they came from, same project only)',
      )
      .option(
        '--tenant-map <from=to,...>',
        "restore an Auth tenant's users into another tenant of the target (default: the tenant of the same id)",
        parseTenantMap,
      );
  }
  return command;
}

function parseReaderHeap(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 16 || n > 16_384) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `--rtdb-memory must be a whole number of MB from 16 to 16384 (got "${value}").`,
    );
  }
  return n;
}

export interface OtherSourceOptions {
  /** Any emulator was named: sources are then included only when their emulator is given. */
  emulator: boolean;
  auth: OpenAuthOptions;
  storage: OpenStorageSourceOptions & { buckets?: string[]; prefix?: string; bucket?: string };
  tenantMap?: Record<string, string>;
  rtdb: OpenRtdbOptions & { paths?: string[]; instance?: string; readerHeapMb?: number };
}

/** Connection options for Auth and Storage, from the flags and the Firestore source's. */
export function otherSourceOptions(
  io: CliIO,
  flags: OtherSourceFlags,
  firestore: OpenFirestoreOptions,
): OtherSourceOptions {
  const authEmulator = flags.authEmulator ?? io.env.FIREBASE_AUTH_EMULATOR_HOST;
  const storageEmulator =
    flags.storageEmulator ??
    io.env.FIREBASE_STORAGE_EMULATOR_HOST ??
    io.env.STORAGE_EMULATOR_HOST?.replace(/^https?:\/\//, '');
  const rtdbEmulator = flags.rtdbEmulator ?? io.env.FIREBASE_DATABASE_EMULATOR_HOST;
  const emulator = Boolean(
    firestore.emulatorHost || authEmulator || storageEmulator || rtdbEmulator,
  );
  const credentials =
    !emulator && firestore.credentialsFile ? { credentialsFile: firestore.credentialsFile } : {};
  if (emulator) {
    // A real service reached with emulator settings would be a surprise: say what is missing.
    const missing = (flags.sources ?? []).filter(
      (s) =>
        (s === 'auth' && !authEmulator) ||
        (s === 'storage' && !storageEmulator) ||
        (s === 'rtdb' && !rtdbEmulator),
    );
    if (missing.length > 0) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `--sources names ${missing.join(' and ')} but no emulator for ${missing.length > 1 ? 'them' : 'it'} is given with the other emulators: pass ${missing.map((s) => `--${s}-emulator <host:port>`).join(' and ')}.`,
      );
    }
  }
  return {
    emulator,
    auth: {
      projectId: firestore.projectId,
      ...(authEmulator ? { emulatorHost: authEmulator } : credentials),
    },
    storage: {
      projectId: firestore.projectId,
      ...(storageEmulator ? { emulatorHost: storageEmulator } : credentials),
      ...(flags.buckets?.length ? { buckets: flags.buckets } : {}),
      ...(flags.storagePrefix ? { prefix: flags.storagePrefix } : {}),
      ...(flags.toBucket ? { bucket: flags.toBucket } : {}),
    },
    ...(flags.tenantMap ? { tenantMap: flags.tenantMap } : {}),
    rtdb: {
      projectId: firestore.projectId,
      ...(rtdbEmulator ? { emulatorHost: rtdbEmulator } : credentials),
      ...(flags.rtdbInstances?.length ? { instances: flags.rtdbInstances } : {}),
      ...(flags.rtdbPaths?.length ? { paths: flags.rtdbPaths } : {}),
      ...(flags.toRtdbInstance ? { instance: flags.toRtdbInstance } : {}),
      ...(flags.rtdbMemory ? { readerHeapMb: flags.rtdbMemory } : {}),
    },
  };
}

/** ", 1,500 users, 2 files" from a manifest's counts ('' when it holds neither). */
export function otherSourceCounts(counts: Record<string, number> | undefined): string {
  const parts: string[] = [];
  if (counts?.['auth.users'] !== undefined)
    parts.push(`${formatCount(counts['auth.users'])} users`);
  if (counts?.['rtdb.records'] !== undefined)
    parts.push(`${formatCount(counts['rtdb.records'])} RTDB records`);
  if (counts?.['storage.objects'] !== undefined)
    parts.push(`${formatCount(counts['storage.objects'])} files`);
  return parts.map((p) => `, ${p}`).join('');
}

/** `inspect` lines for the Auth and Storage parts of a backup. */
export function sourceLines(sources: SourceCounts): string[] {
  const lines: string[] = [];
  if (sources.auth) {
    lines.push(
      `Auth: ${formatCount(sources.auth.users)} users (password hashes: ${sources.auth.hashAlgorithm})`,
    );
  }
  if (sources.rtdb) {
    lines.push(
      `Realtime Database: ${formatCount(sources.rtdb.nodes)} values, ${formatBytes(sources.rtdb.bytes)}`,
      ...sources.rtdb.instances.map(
        (i) => `  ${i.instance}: ${formatCount(i.nodes)} values, ${formatBytes(i.bytes)}`,
      ),
    );
  }
  if (sources.storage) {
    lines.push(
      `Storage: ${formatCount(sources.storage.objects)} files, ${formatBytes(sources.storage.bytes)}`,
      ...sources.storage.buckets.map(
        (b) => `  gs://${b.bucket}: ${formatCount(b.objects)} files, ${formatBytes(b.bytes)}`,
      ),
    );
  }
  return lines;
}

/** `inspect` lines for the cross-checks: each finding, then what was not listed. */
export function crossCheckDetail(report: CrossCheckReport | undefined): string[] {
  const summary = crossCheckLines(report);
  if (!report || summary.length === 0) return [];
  const lines = ['Cross-checks (reported only):', ...summary.map((l) => `  ${l}`)];
  for (const check of [report.uidsWithoutUser, report.missingStorageObjects]) {
    for (const f of check?.examples ?? []) {
      lines.push(`    ${f.document}${f.field ? ` ${f.field}: ${f.value}` : ''}`);
    }
    const more = (check?.missing ?? 0) - (check?.examples.length ?? 0);
    if (check && more > 0 && check.examples.length > 0) lines.push(`    … and ${more} more`);
  }
  return lines;
}

/** restore --salvage: what was recovered of the Auth users and Storage objects. */
export function salvagedSourceLines(s: SalvagedSources | undefined): string[] {
  if (!s) return [];
  const of = (n: number, expected: number | undefined): string =>
    expected === undefined ? formatCount(n) : `${formatCount(n)} of ${formatCount(expected)}`;
  const lines: string[] = [];
  if (s.usersExpected !== undefined || s.usersRecovered > 0 || s.usersWithoutConfig > 0) {
    lines.push(
      `  ${of(s.usersRecovered, s.usersExpected)} Auth users recovered${s.usersWithoutConfig ? `; ${formatCount(s.usersWithoutConfig)} left out because their scope's hash configuration was lost` : ''}`,
    );
  }
  if (s.objectsExpected !== undefined || s.objectsRecovered > 0 || s.objectsCut.length > 0) {
    lines.push(`  ${of(s.objectsRecovered, s.objectsExpected)} Storage objects recovered`);
    for (const name of s.objectsCut)
      lines.push(`  left out, its content cut by the damage: ${name}`);
  }
  return lines;
}
