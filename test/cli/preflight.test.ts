import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import type { Run } from '../../src/shared/jobs.js';
import { seedDocuments, testProject } from '../helpers/firestore-seed.js';
import { runCli } from '../helpers/run-cli.js';
import { S3RVER_CREDENTIALS, TEST_BUCKET } from '../setup/storage-servers.js';

const firestore = inject('firestoreEmulatorHost');
const s3 = inject('s3Endpoint');

/**
 * Issue 11, item 6: nothing billed before the destination is known to work, and an empty
 * backup is never silent.
 */
describe.skipIf(!firestore || !s3)('preflight before any Firestore read', () => {
  const key = MasterKey.generate();
  const env = { ENCRYPTION_KEY: key.revealHex() };
  /** Stands in for Firestore: counts the connections a backup opens to it. */
  let fakeFirestore: Server;
  let fakeHost: string;
  let connections = 0;
  let dir: string;

  beforeAll(async () => {
    fakeFirestore = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((r) => fakeFirestore.listen(0, '127.0.0.1', r));
    const address = fakeFirestore.address();
    if (typeof address !== 'object' || !address) throw new Error('no address');
    fakeHost = `127.0.0.1:${address.port}`;
    dir = await mkdtemp(path.join(tmpdir(), 'fb-preflight-'));
  });
  afterAll(() => new Promise<void>((r) => fakeFirestore.close(() => r())));

  const attempt = async (
    to: string,
    config: Record<string, unknown>,
  ): Promise<{ code: number; stderr: string; ms: number; connections: number }> => {
    const file = path.join(dir, `${randomBytes(4).toString('hex')}.json`);
    await writeFile(file, JSON.stringify(config));
    connections = 0;
    const started = Date.now();
    const run = await runCli(
      [
        'backup',
        '--project',
        'preflight-demo',
        '--emulator',
        fakeHost,
        '--to',
        to,
        '--s3-endpoint',
        s3,
        '--destination-config',
        file,
      ],
      env,
    );
    return { code: run.code, stderr: run.stderr, ms: Date.now() - started, connections };
  };

  it('wrong S3 credentials: fails in seconds with a clear message, Firestore never contacted', async () => {
    const r = await attempt(`s3://${TEST_BUCKET}/preflight`, {
      region: 'us-east-1',
      accessKeyId: 'AKIAWRONGKEY',
      secretAccessKey: 'wrong-secret',
    });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/Preflight: could not write to s3:.*Nothing was read from Firestore/);
    expect(r.stderr).toMatch(/credentials/);
    expect(r.connections).toBe(0);
    expect(r.ms).toBeLessThan(10_000);
  });

  it('no S3 credentials at all: fails in seconds, Firestore never contacted', async () => {
    const r = await attempt(`s3://${TEST_BUCKET}/preflight`, { region: 'us-east-1' });
    expect(r.code, r.stderr).not.toBe(0);
    expect(r.stderr).toMatch(/Preflight: could not write to s3:.*Nothing was read from Firestore/);
    expect(r.connections).toBe(0);
    expect(r.ms).toBeLessThan(15_000);
  });

  it('a missing bucket: fails in seconds with a clear message, Firestore never contacted', async () => {
    const r = await attempt(`s3://no-such-bucket-${randomBytes(3).toString('hex')}/x`, {
      region: 'us-east-1',
      ...S3RVER_CREDENTIALS,
    });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/Preflight: could not write to s3:.*bucket/i);
    expect(r.connections).toBe(0);
    expect(r.ms).toBeLessThan(10_000);
  });

  it('a folder that cannot be created: fails before Firestore is contacted', async () => {
    const file = path.join(dir, 'a-file');
    await writeFile(file, 'x');
    connections = 0;
    const run = await runCli(
      ['backup', '--project', 'preflight-demo', '--emulator', fakeHost, '--to', `${file}/sub`],
      env,
    );
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/Preflight: could not write to/);
    expect(connections).toBe(0);
  });

  it('the probe object never stays behind, and a good destination backs up as before', async () => {
    const project = testProject('preflight-ok');
    await seedDocuments(firestore, project, { count: 20 });
    const to = path.join(dir, 'ok');
    const run = await runCli(
      ['backup', '--project', project, '--emulator', firestore, '--to', to, '--json'],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.json()).toMatchObject({ documents: 20, warnings: [] });
    const files = await readdir(to);
    expect(files.filter((f) => f.includes('preflight'))).toEqual([]);
    expect(files.every((f) => /\.(fbk|fbm|fbx)$/.test(f))).toBe(true);
  });
});

describe.skipIf(!firestore)('empty backups are never silent', () => {
  const env = { ENCRYPTION_KEY: MasterKey.generate().revealHex() };
  let project: string;
  let dir: string;

  beforeAll(async () => {
    project = testProject('empty');
    await seedDocuments(firestore, project, { count: 30, rootCollections: ['users'] });
    dir = await mkdtemp(path.join(tmpdir(), 'fb-empty-'));
  });

  const backup = (extra: string[]) =>
    runCli(
      [
        'backup',
        '--project',
        project,
        '--emulator',
        firestore,
        '--to',
        path.join(dir, 'dest'),
        ...extra,
      ],
      { ...env, FIREBACKUP_HOME: path.join(dir, 'home') },
    );

  it('--collections nope and a wrong --database warn on stderr and in JSON', async () => {
    for (const extra of [
      ['--collections', 'nope'],
      ['--database', 'nope'],
    ]) {
      const human = await backup(extra);
      expect(human.code, human.stderr).toBe(0);
      expect(human.stderr).toMatch(/Warning: The backup holds no documents.*--allow-empty/);
      const json = await backup([...extra, '--json']);
      expect(json.json()).toMatchObject({
        documents: 0,
        warnings: [expect.stringMatching(/holds no documents/)],
      });
    }
  });

  it('--allow-empty says an empty backup is expected: no warning', async () => {
    const run = await backup(['--collections', 'nope', '--allow-empty', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/Warning/);
    expect(run.json()).toMatchObject({ documents: 0, warnings: [] });
  });

  it('a scheduled run that backs up nothing fails (flagged in history) unless --allow-empty', async () => {
    const home = { ...env, FIREBACKUP_HOME: path.join(dir, 'home-sched') };
    const add = (name: string, extra: string[]) =>
      runCli(
        [
          'schedule',
          'add',
          name,
          '--project',
          project,
          '--emulator',
          firestore,
          '--to',
          path.join(dir, 'dest-sched'),
          '--cron',
          '0 2 * * *',
          '--collections',
          'nope',
          '--keep-last',
          '1',
          ...extra,
        ],
        home,
      );
    expect((await add('wrong', [])).code).toBe(0);
    expect((await add('expected', ['--allow-empty'])).code).toBe(0);
    const wrong = await runCli(['schedule', 'run-now', 'wrong', '--json'], home);
    expect(wrong.code).toBe(1);
    expect(wrong.json<Run>()).toMatchObject({
      status: 'failed',
      error: { code: 'NOT_FOUND', message: expect.stringMatching(/holds no documents/) },
    });
    expect(wrong.json<Run>().backupId).toMatch(/^bkp_/);
    const expected = await runCli(['schedule', 'run-now', 'expected', '--json'], home);
    expect(expected.code, expected.stderr).toBe(0);
    const history = await runCli(['history', '--schedule', 'wrong', '--json'], home);
    expect(history.json<Run[]>()).toMatchObject([{ status: 'failed' }]);
  });
});
