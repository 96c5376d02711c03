/**
 * `npm run bench -- browse`: the first page of a collection of a 100,000-document backup
 * (issue #8, < 2 s), for a backup made elsewhere: by the CLI, in a local folder and on
 * s3rver, browsed by a runtime that never saw it (no index in memory or on disk). Both
 * ways in one run, alternated: "before", the full authenticated read of ADR 0007 (the
 * backup's browse directory moved aside, as for a backup made before it existed), and
 * "after", through its browse directory (ADR 0008). Timed at the contract
 * (backups.collections, then backups.documents with limit 100, as the Backups screen
 * asks), plus opening one document. Also the backup's own cost of writing the
 * directory (directoryCost).
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
import { RECORD_PREFIX_LENGTH, RecordType } from '../src/engine/archive/records.js';
import { ArchiveWriter } from '../src/engine/archive/writer.js';
import {
  DirectoryBuilder,
  putBrowseDirectory,
  sealBrowseDirectory,
} from '../src/engine/browse/directory.js';
import { browseDirectoryKeyOf } from '../src/engine/operations/backup-names.js';
import { bodyToBuffer } from '../src/engine/storage/backend.js';
import { openDestination } from '../src/engine/storage/index.js';
import { createDispatcher } from '../src/shared/api/dispatch.js';
import { seedDocuments } from '../test/helpers/firestore-seed.js';
import { S3RVER_CREDENTIALS, TEST_BUCKET, startS3rver } from '../test/setup/storage-servers.js';
import { check, project, withEmulator } from './firestore.js';
import { ROOT, runNodeChild, type BenchLine } from './lib.js';
import { realisticDocument } from './pipeline.js';

const CLI = path.join(ROOT, 'bin/firebackup.js');
const COLLECTION = 'events';
const local = { kind: 'local' as const };

export interface Place {
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

/**
 * Cold first pages of one backup, alternated: before (its directory moved aside, as for a
 * backup made before directories existed) and after (through the directory).
 */
export async function browseLines(
  keyring: Keyring,
  place: Place,
  backupId: string,
  runs: number,
): Promise<BenchLine[]> {
  const dest = await openDestination(place.url, place.options);
  const directoryKey = browseDirectoryKeyOf(backupId);
  const directory = await bodyToBuffer(await dest.get(directoryKey));
  const before: number[] = [];
  const after: number[] = [];
  const opened: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      await dest.delete(directoryKey);
      before.push((await coldFirstPage(keyring, place, backupId)).pageMs);
      await dest.put(directoryKey, directory);
      const cold = await coldFirstPage(keyring, place, backupId);
      after.push(cold.pageMs);
      opened.push(cold.documentMs);
    }
  } finally {
    await dest.put(directoryKey, directory);
  }
  const worst = (xs: number[]): number => Math.max(...xs);
  const list = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(', ');
  return [
    {
      name: `${place.name}: first page, cold, full read (no directory), worst of ${runs} (${list(before)} ms)`,
      value: worst(before),
      unit: 'ms',
      target: '< 2000 ms',
      pass: worst(before) < 2000,
    },
    {
      name: `${place.name}: first page, cold, through the browse directory (${directory.length.toLocaleString('en')} bytes), worst of ${runs} (${list(after)} ms)`,
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
  ];
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
        lines.push(...(await browseLines(keyring, place, made.id, runs)));
      }
      lines.push(...(await directoryCost(folder, count, runs)));
    } finally {
      await s3.stop();
      await rm(folder, { recursive: true, force: true });
    }
    return lines;
  });
}

/**
 * What writing the directory costs a backup: the archive of the same 100,000 documents
 * written into a local folder (records → Brotli → AES-GCM → put, as runBackup does)
 * with and without the directory (its builder on every document, then sealing and
 * storing it), alternated. Firestore reads are left out: they only add the same time to
 * both, so this ratio is the worst a real backup can see.
 */
export async function directoryCost(
  folder: string,
  count: number,
  runs: number,
): Promise<BenchLine[]> {
  const key = MasterKey.generate();
  // In __name__ order, as the export reads them (sources/firestore/export.ts).
  const docs = Array.from({ length: count }, (_, i) => realisticDocument(i)).sort((a, b) =>
    a.path < b.path ? -1 : 1,
  );
  const rates: Record<'with' | 'without', number[]> = { with: [], without: [] };
  for (let i = 0; i < runs; i++) {
    for (const withDirectory of [false, true]) {
      const destination = await openDestination(
        path.join(folder, `cost-${i}-${withDirectory}`),
        {},
      );
      const started = performance.now();
      const writer = new ArchiveWriter({ key });
      const upload = destination.put('b.fbk', writer.output);
      const directory = withDirectory ? new DirectoryBuilder() : undefined;
      for (const doc of docs) {
        const position = writer.recordOffset;
        const bytes = await writer.writeText(RecordType.FirestoreDocument, JSON.stringify(doc));
        directory?.add(doc.path, position, RECORD_PREFIX_LENGTH + bytes);
      }
      // As runBackup does: sealed while the upload completes, stored after it.
      const written = await writer.finish();
      const entries = directory?.build('bkp_bench', {
        size: written.archiveBytes,
        layout: written.layout,
      });
      const sealing = entries ? sealBrowseDirectory(key, entries) : undefined;
      await upload;
      if (sealing) await putBrowseDirectory(destination, 'bkp_bench', await sealing);
      rates[withDirectory ? 'with' : 'without'].push(
        count / ((performance.now() - started) / 1000),
      );
    }
  }
  const best = (xs: number[]): number => Math.max(...xs);
  const list = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(', ');
  return [
    {
      name: `archive of ${count.toLocaleString('en')} documents, without the directory, best of ${runs} (${list(rates.without)})`,
      value: best(rates.without),
      unit: 'docs/s',
    },
    {
      name: `the same with the directory, best of ${runs} (${list(rates.with)})`,
      value: best(rates.with),
      unit: 'docs/s',
    },
    {
      name: 'backup throughput ratio, with / without the directory',
      value: best(rates.with) / best(rates.without),
      unit: 'x',
    },
  ];
}
