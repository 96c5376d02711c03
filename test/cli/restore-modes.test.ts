import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { openFirestore } from '../../src/engine/sources/firestore/connection.js';
import type { ProtoValue } from '../../src/engine/sources/firestore/protos.js';
import type { RestoreReport } from '../../src/engine/sources/firestore/restore.js';
import { emulatorJar, startFirestoreEmulator } from '../helpers/firestore-emulator.js';
import { readAllRaw, seedDocuments, testProject, writeRaw } from '../helpers/firestore-seed.js';
import { runCli } from '../helpers/run-cli.js';

const host = inject('firestoreEmulatorHost');

const int = (n: number): ProtoValue => ({ integerValue: String(n) });
const map = (fields: Record<string, ProtoValue>): ProtoValue => ({ mapValue: { fields } });

async function write(project: string, docs: Record<string, Record<string, ProtoValue>>) {
  const conn = await openFirestore({ projectId: project, emulatorHost: host });
  try {
    await writeRaw(
      conn,
      Object.entries(docs).map(([p, fields]) => ({ path: p, fields })),
    );
  } finally {
    await conn.close();
  }
}

/** Every document of a project: path → fields, as the emulator returns them. */
async function contents(project: string): Promise<Record<string, unknown>> {
  const conn = await openFirestore({ projectId: project, emulatorHost: host });
  try {
    const raw = await readAllRaw(conn);
    // The proto's `valueType` tag only repeats which value is set.
    const plain = (v: unknown): unknown =>
      JSON.parse(JSON.stringify(v, (k, x: unknown) => (k === 'valueType' ? undefined : x)));
    return Object.fromEntries([...raw].map(([p, d]) => [p, plain(d.fields)]));
  } finally {
    await conn.close();
  }
}

/**
 * Runs the CLI in a child process and calls `whileWriting` shortly after it starts
 * writing documents (its progress names the phase), to interrupt it mid-way.
 */
async function interruptedCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  whileWriting: (child: ChildProcess) => unknown,
  /** Resolves once the restore has written something: the interruption lands mid-write. */
  written: () => Promise<unknown> = () => new Promise((r) => setTimeout(r, 300)),
): Promise<{ code: number | null; stdout: string; stderr: string; interrupted: boolean }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/cli-entry.ts', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let interrupted = false;
  child.stdout!.on('data', (b: Buffer) => {
    stdout += b.toString();
  });
  child.stderr!.on('data', (b: Buffer) => {
    stderr += b.toString();
    if (!interrupted && /restoring/.test(stderr)) {
      interrupted = true;
      void written().then(() => whileWriting(child));
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, stdout, stderr, interrupted };
}

/** How many documents the project holds, counting no further than `limit`. */
async function countUpTo(emulatorHost: string, project: string, limit: number): Promise<number> {
  const conn = await openFirestore({ projectId: project, emulatorHost });
  try {
    const stream = conn.client.runQuery(
      {
        parent: conn.documentsRoot,
        structuredQuery: { from: [{ allDescendants: true }], limit: { value: limit } },
      },
      conn.callOptions(),
    );
    let n = 0;
    for await (const r of stream as AsyncIterable<{ document?: unknown }>) if (r.document) n++;
    return n;
  } finally {
    await conn.close();
  }
}

/** A restore's JSON result. */
type Counts = RestoreReport;

/** The plan in the report's own terms, so a plan and a report compare with toEqual. */
function asReport(p: NonNullable<Counts['planned']>) {
  return {
    created: p.create,
    overwritten: p.overwrite,
    merged: p.merge,
    skipped: p.skip,
    deleted: p.delete,
  };
}
const outcome = (r: Counts) => ({
  created: r.created,
  overwritten: r.overwritten,
  merged: r.merged,
  skipped: r.skipped,
  deleted: r.deleted,
});

/** Restore modes through the real CLI against the Firestore emulator: the plan is the report. */
describe.skipIf(!host)('restore modes', () => {
  const key = MasterKey.generate();
  const env = { ENCRYPTION_KEY: key.revealHex(), FIRESTORE_EMULATOR_HOST: host };
  const backupDoc = {
    'u/1': { a: int(1), nested: map({ p: int(1), q: int(1) }) },
    'u/2': { a: int(2) },
    'u/3': { a: int(3) },
    'other/1': { x: int(1) },
  };
  /** What every target holds before the restore: two of the backup's documents, changed, and extras. */
  const before = {
    'u/1': { a: int(0), nested: map({ q: int(0), r: int(9) }), only: int(1) },
    'u/2': { a: int(0) },
    'u/extra': { e: int(1) },
    'u/1/sub/x': { s: int(1) },
    'keep/1': { k: int(1) },
  };
  let dir: string;
  let full: string;
  let onlyU: string;

  beforeAll(async () => {
    const source = testProject('modes-src');
    await write(source, backupDoc);
    dir = await mkdtemp(path.join(tmpdir(), 'fb-modes-'));
    const a = await runCli(['backup', '--project', source, '--to', dir, '--json'], env);
    expect(a.code, a.stderr).toBe(0);
    full = a.json<{ id: string }>().id;
    const b = await runCli(
      ['backup', '--project', source, '--to', dir, '--collections', 'u', '--json'],
      env,
    );
    expect(b.code, b.stderr).toBe(0);
    onlyU = b.json<{ id: string }>().id;
  });

  async function target(): Promise<string> {
    const project = testProject('modes-dst');
    await write(project, before);
    return project;
  }

  /** A dry run, then the real run: returns both, after checking that they agree exactly. */
  async function planThenRun(project: string, backup: string, ...extra: string[]) {
    const args = ['restore', backup, '--from', dir, '--to-project', project, '--json', ...extra];
    const dry = await runCli([...args, '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    const plan = dry.json<Counts>().planned!;
    expect(await contents(project)).toEqual(before);
    const run = await runCli(args, env);
    expect(run.code, run.stderr).toBe(0);
    const report = run.json<Counts>();
    expect(report.failedCount).toBe(0);
    expect(outcome(report)).toEqual(asReport(plan));
    return { plan, report };
  }

  it('create: plan and report agree (existing documents skipped)', async () => {
    const project = await target();
    const { report } = await planThenRun(project, full);
    expect(outcome(report)).toEqual({
      created: 2,
      overwritten: 0,
      merged: 0,
      skipped: 2,
      deleted: 0,
    });
    expect((await contents(project))['u/1']).toEqual(before['u/1']);
  });

  it('overwrite: created and overwritten counted apart, as planned', async () => {
    const project = await target();
    const { report } = await planThenRun(project, full, '--mode', 'overwrite');
    expect(outcome(report)).toEqual({
      created: 2,
      overwritten: 2,
      merged: 0,
      skipped: 0,
      deleted: 0,
    });
    const now = await contents(project);
    expect(now['u/1']).toEqual(backupDoc['u/1']);
    expect(now['u/extra']).toEqual(before['u/extra']);
  });

  it('merge: deep, keeping the fields only the target has (nested.r too), as planned', async () => {
    const project = await target();
    const { report } = await planThenRun(project, full, '--mode', 'merge');
    expect(outcome(report)).toEqual({
      created: 2,
      overwritten: 0,
      merged: 2,
      skipped: 0,
      deleted: 0,
    });
    const now = await contents(project);
    expect(now['u/1']).toEqual({
      a: int(1),
      nested: map({ p: int(1), q: int(1), r: int(9) }),
      only: int(1),
    });
    expect(now['u/3']).toEqual(backupDoc['u/3']);
  });

  it('mirror: refuses without --yes when not at a terminal, and changes nothing', async () => {
    const project = await target();
    const run = await runCli(
      ['restore', full, '--from', dir, '--to-project', project, '--mode', 'mirror'],
      env,
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--dry-run.*--yes/);
    expect(await contents(project)).toEqual(before);
  });

  it('mirror: deletes exactly the extra documents of the selection, nothing outside it', async () => {
    const project = await target();
    const { plan } = await planThenRun(
      project,
      full,
      '--mode',
      'mirror',
      '--collections',
      'u',
      '--yes',
    );
    expect(plan.deletePaths.sort()).toEqual(['u/1/sub/x', 'u/extra']);
    expect(plan).toMatchObject({ create: 1, overwrite: 2, delete: 2 });
    const now = await contents(project);
    expect(now).toEqual({
      'u/1': backupDoc['u/1'],
      'u/2': backupDoc['u/2'],
      'u/3': backupDoc['u/3'],
      'keep/1': before['keep/1'], // outside the selection: untouched
    });
  });

  it("mirror: never deletes outside the backup's own selection either", async () => {
    const project = await target();
    await planThenRun(project, onlyU, '--mode', 'mirror', '--yes');
    const now = await contents(project);
    expect(now['keep/1']).toEqual(before['keep/1']);
    expect(Object.keys(now).sort()).toEqual(['keep/1', 'u/1', 'u/2', 'u/3']);
  });

  it('says what a cancelled restore wrote and the command that finishes it', async () => {
    const big = testProject('modes-cancel-src');
    await seedDocuments(host, big, { count: 20000, docBytes: 300 });
    const bigDir = await mkdtemp(path.join(tmpdir(), 'fb-modes-cancel-'));
    const backup = await runCli(['backup', '--project', big, '--to', bigDir, '--json'], env);
    expect(backup.code, backup.stderr).toBe(0);
    const project = testProject('modes-cancel-dst');
    const { code, stdout, stderr, interrupted } = await interruptedCli(
      ['restore', 'latest', '--from', bigDir, '--to-project', project, '--json'],
      env,
      (child) => child.kill('SIGINT'), // Ctrl-C
      // A fixed delay can land before the first batch on a loaded machine: wait for a write.
      async () => {
        while ((await countUpTo(host, project, 1)) === 0) await sleep(50);
      },
    );
    expect(interrupted, 'the restore finished before it could be interrupted').toBe(true);
    expect(code, stderr).toBe(130);
    const result = JSON.parse(stdout) as Counts & {
      ok: boolean;
      complete: boolean;
      written: number;
      error: { code: string };
      finish: { command: string; effect: string };
    };
    expect(result).toMatchObject({ ok: false, complete: false, error: { code: 'CANCELLED' } });
    const written = Object.keys(await contents(project)).length;
    expect(result.written).toBe(written);
    expect(result.created).toBe(written);
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(20000);
    expect(stderr).toContain(`${written.toLocaleString('en-US')} documents were written`);
    const backupId = backup.json<{ id: string }>().id;
    expect(result.finish.command).toBe(
      `firebackup restore ${backupId} --from ${bigDir} --to-project ${project} --json`,
    );
    expect(stderr).toContain(`To finish, run: ${result.finish.command}`);
    expect(result.finish.effect).toMatch(/only the documents still missing/);

    // The command it gives finishes the job.
    const rerun = await runCli(result.finish.command.split(' ').slice(1), env);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.json()).toMatchObject({ created: 20000 - written, skipped: written });
    expect(Object.keys(await contents(project))).toHaveLength(20000);
  }, 180_000);
});

describe.skipIf(!emulatorJar())('a restore when Firestore goes away mid-way', () => {
  it('says what it wrote before the connection was lost, and how to finish', async () => {
    const emulator = await startFirestoreEmulator(emulatorJar()!);
    const env = {
      ENCRYPTION_KEY: MasterKey.generate().revealHex(),
      FIRESTORE_EMULATOR_HOST: emulator.host,
    };
    try {
      const source = testProject('lost-src');
      await seedDocuments(emulator.host, source, { count: 20000, docBytes: 300 });
      const dir = await mkdtemp(path.join(tmpdir(), 'fb-lost-'));
      const backup = await runCli(['backup', '--project', source, '--to', dir, '--json'], env);
      expect(backup.code, backup.stderr).toBe(0);
      const project = testProject('lost-dst');
      const run = await interruptedCli(
        [
          'restore',
          'latest',
          '--from',
          dir,
          '--to-project',
          project,
          '--mode',
          'overwrite',
          '--json',
        ],
        env,
        async () => {
          // Stop it once several batches have been acknowledged, not only sent.
          while ((await countUpTo(emulator.host, project, 2000)) < 2000) {
            await new Promise((r) => setTimeout(r, 50));
          }
          await emulator.stop();
        },
      );
      expect(run.interrupted, 'the restore finished before Firestore went away').toBe(true);
      expect(run.code, run.stderr).toBe(1);
      const result = JSON.parse(run.stdout) as Counts & {
        complete: boolean;
        written: number;
        error: { code: string };
        finish: { command: string; effect: string };
        ok: boolean;
      };
      expect(result).toMatchObject({ ok: false, complete: false, error: { code: 'UNAVAILABLE' } });
      expect(result.written).toBeGreaterThan(0);
      expect(result.written).toBeLessThan(20000);
      expect(result.created).toBe(result.written); // an empty target: nothing was overwritten
      const backupId = backup.json<{ id: string }>().id;
      expect(result.finish.command).toBe(
        `firebackup restore ${backupId} --from ${dir} --to-project ${project} --mode overwrite --json`,
      );
      expect(result.finish.effect).toMatch(/writes every selected document again/);
      expect(run.stderr).toMatch(
        /documents were written into .*\nTo finish, run: firebackup restore/,
      );
    } finally {
      await emulator.stop().catch(() => undefined);
    }
  }, 180_000);
});
