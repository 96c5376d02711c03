/**
 * `npm run bench -- browse`: the first page of a collection of a 100,000-document backup
 * (issue #8, < 2 s), for a backup made elsewhere: by the CLI, in a local folder and on
 * s3rver, browsed by a runtime that never saw it (no index in memory or on disk). Both
 * ways in one run, alternated: "before", the full authenticated read of ADR 0007 (the
 * backup's browse directory moved aside, as for a backup made before it existed), and
 * "after", through its browse directory (ADR 0008). Timed at the contract
 * (backups.collections, then backups.documents with limit 100, as the Backups screen
 * asks), plus opening one document. Also the backup's own cost of writing the
 * directory: the engine's backup of the same data with and without it, alternated.
 *
 * Uses $FIRESTORE_EMULATOR_HOST or starts the emulator. BENCH_BROWSE_DOCS (default
 * 100,000), BENCH_BROWSE_RUNS (default 2 of each).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApiHandlers } from '../src/engine/api/handlers.js';
import { createRuntime } from '../src/engine/jobs/runtime.js';
import { Keyring } from '../src/engine/keys/keyring.js';
import { MasterKey } from '../src/engine/keys/master-key.js';
import { runBackup } from '../src/engine/operations/backup.js';
import { browseDirectoryKeyOf } from '../src/engine/operations/backup-names.js';
import { bodyToBuffer, type StorageBackend } from '../src/engine/storage/backend.js';
import { openDestination } from '../src/engine/storage/index.js';
import { createDispatcher } from '../src/shared/api/dispatch.js';
import { seedDocuments } from '../test/helpers/firestore-seed.js';
import { S3RVER_CREDENTIALS, TEST_BUCKET, startS3rver } from '../test/setup/storage-servers.js';
import { check, project, withEmulator } from './firestore.js';
import { ROOT, runNodeChild, type BenchLine } from './lib.js';

const CLI = path.join(ROOT, 'bin/firebackup.js');
const COLLECTION = 'events';
const local = { kind: 'local' as const };

interface Place {
  name: string;
  url: string;
  options: Record<string, unknown>;
}

/** The first page as the Backups screen asks for it, from a runtime that never saw the backup. */
async function coldFirstPage(
  keyring: Keyring,
  place: Place,
  backupId: string,
): Promise<{ pageMs: number; documentMs: number }> {
  // An in-memory catalog: no saved browse index, no index in memory.
  const runtime = createRuntime({ catalogFile: ':memory:', keyring });
  try {
    const dispatch = createDispatcher(createApiHandlers(runtime, keyring));
    const destinationId = runtime.catalog.destinations.upsert({
      name: place.name,
      url: place.url,
      // The catalog keeps no secrets: the S3 keys come from the environment (see below).
      options: Object.fromEntries(
        Object.entries(place.options).filter(([k]) => !/secret|accessKey/i.test(k)),
      ),
    }).id;
    const ref = { destinationId, backupId };
    const started = performance.now();
    const collections = await dispatch('backups.collections', ref, local);
    if (!collections.ok) throw new Error(collections.error.message);
    const page = await dispatch(
      'backups.documents',
      { ...ref, collection: COLLECTION, limit: 100 },
      local,
    );
    if (!page.ok) throw new Error(page.error.message);
    const pageMs = performance.now() - started;
    const first = (page.value as { documents: Array<{ path: string }> }).documents[0]!;
    const opened = performance.now();
    const doc = await dispatch('backups.document', { ...ref, path: first.path }, local);
    if (!doc.ok) throw new Error(doc.error.message);
    return { pageMs, documentMs: performance.now() - opened };
  } finally {
    runtime.close();
  }
}

async function backupWithCli(host: string, projectId: string, place: Place, key: MasterKey) {
  const dir = await mkdtemp(path.join(tmpdir(), 'fb-bench-browse-cfg-'));
  const config = path.join(dir, 'destination.json');
  await writeFile(config, JSON.stringify(place.options));
  const run = check(
    await runNodeChild(
      [
        CLI,
        'backup',
        '--project',
        projectId,
        '--emulator',
        host,
        '--to',
        place.url,
        '--destination-config',
        config,
        '--json',
        '--quiet',
      ],
      { ENCRYPTION_KEY: key.revealHex() },
    ),
    'firebackup backup',
  );
  await rm(dir, { recursive: true, force: true });
  return JSON.parse(run.stdout) as { id: string; documents: number; archiveBytes: number };
}

export async function benchBrowse(): Promise<BenchLine[]> {
  const count = Number(process.env.BENCH_BROWSE_DOCS ?? 100_000);
  const runs = Number(process.env.BENCH_BROWSE_RUNS ?? 2);
  return withEmulator(async (host) => {
    const projectId = project('browse');
    console.error(`seeding ${count} documents…`);
    await seedDocuments(host, projectId, { count, rootCollections: [COLLECTION], docBytes: 300 });
    const key = MasterKey.generate();
    const keyring = new Keyring(key);
    const s3 = await startS3rver();
    // For the runtime's catalog destination, which takes its S3 keys from the AWS chain.
    process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey;
    const folder = await mkdtemp(path.join(tmpdir(), 'fb-bench-browse-'));
    const lines: BenchLine[] = [];
    try {
      const places: Place[] = [
        { name: 'local folder', url: folder, options: {} },
        {
          name: 's3rver',
          url: `s3://${TEST_BUCKET}/bench-browse`,
          options: { endpoint: s3.endpoint, ...S3RVER_CREDENTIALS, region: 'us-east-1' },
        },
      ];
      for (const place of places) {
        console.error(`backing up to ${place.name} with the CLI…`);
        const made = await backupWithCli(host, projectId, place, key);
        if (made.documents !== count) throw new Error(`backed up ${made.documents} documents`);
        const dest = await openDestination(place.url, place.options);
        const directoryKey = browseDirectoryKeyOf(made.id);
        const directory = await bodyToBuffer(await dest.get(directoryKey));
        const before: number[] = [];
        const after: number[] = [];
        const opened: number[] = [];
        for (let i = 0; i < runs; i++) {
          // Before: no directory, as for a backup made before it existed.
          await dest.delete(directoryKey);
          before.push((await coldFirstPage(keyring, place, made.id)).pageMs);
          await dest.put(directoryKey, directory);
          const cold = await coldFirstPage(keyring, place, made.id);
          after.push(cold.pageMs);
          opened.push(cold.documentMs);
        }
        const worst = (xs: number[]): number => Math.max(...xs);
        lines.push(
          {
            name: `${place.name}: first page, cold, full read (no directory), worst of ${runs} (${before.map((x) => x.toFixed(0)).join(', ')} ms)`,
            value: worst(before),
            unit: 'ms',
            target: '< 2000 ms',
            pass: worst(before) < 2000,
          },
          {
            name: `${place.name}: first page, cold, through the browse directory (${directory.length.toLocaleString('en')} bytes), worst of ${runs} (${after.map((x) => x.toFixed(0)).join(', ')} ms)`,
            value: worst(after),
            unit: 'ms',
            target: '< 2000 ms',
            pass: worst(after) < 2000,
          },
          {
            name: `${place.name}: then opening its first document (ranged segment read), worst of ${runs}`,
            value: worst(opened),
            unit: 'ms',
          },
        );
      }
      lines.push(...(await backupCost(host, projectId, keyring, folder, runs)));
    } finally {
      await s3.stop();
      await rm(folder, { recursive: true, force: true });
    }
    return lines;
  });
}

/** Engine backups of the same data with and without the directory, alternated. */
async function backupCost(
  host: string,
  projectId: string,
  keyring: Keyring,
  folder: string,
  runs: number,
): Promise<BenchLine[]> {
  const rates: Record<'with' | 'without', number[]> = { with: [], without: [] };
  for (let i = 0; i < runs; i++) {
    for (const browseDirectory of [false, true]) {
      const destination: StorageBackend = await openDestination(
        path.join(folder, `cost-${i}-${browseDirectory}`),
        {},
      );
      const result = await runBackup({
        destination,
        keyring,
        source: { projectId, emulatorHost: host },
        browseDirectory,
      });
      rates[browseDirectory ? 'with' : 'without'].push(
        result.documents / (result.durationMs / 1000),
      );
    }
  }
  const best = (xs: number[]): number => Math.max(...xs);
  const ratio = best(rates.with) / best(rates.without);
  return [
    {
      name: `backup without the directory, best of ${runs} (${rates.without.map((x) => x.toFixed(0)).join(', ')})`,
      value: best(rates.without),
      unit: 'docs/s',
    },
    {
      name: `backup with the directory, best of ${runs} (${rates.with.map((x) => x.toFixed(0)).join(', ')})`,
      value: best(rates.with),
      unit: 'docs/s',
    },
    { name: 'backup throughput ratio, with / without', value: ratio, unit: 'x' },
  ];
}
