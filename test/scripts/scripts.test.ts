import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { emulatorJar, freePort } from '../helpers/firestore-emulator.js';
import { testProject } from '../helpers/firestore-seed.js';
import { runCli } from '../helpers/run-cli.js';

const run = promisify(execFile);

async function script(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(args[0]!, args.slice(1), {
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.skipIf(!emulatorJar())('scripts/firestore-emulator.sh', () => {
  const emulator = (command: string, env: NodeJS.ProcessEnv) =>
    script(['bash', 'scripts/firestore-emulator.sh', command], env);

  it('refuses a port another program listens on, and records nothing', async () => {
    const server = createServer(() => undefined);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const env = {
      FIRESTORE_EMULATOR_PORT: String(port),
      TMPDIR: await mkdtemp(path.join(tmpdir(), 'fb-emu-')),
    };
    try {
      const start = await emulator('start', env);
      expect(start.code).toBe(1);
      expect(start.stderr).toMatch(new RegExp(`Port ${port} .* already taken`));
      expect(start.stdout).not.toMatch(/ready/);
      expect(existsSync(path.join(env.TMPDIR, `firebackup-firestore-emulator-${port}.pid`))).toBe(
        false,
      );
      const stop = await emulator('stop', env);
      expect(stop.stdout).toMatch(/No Firestore emulator started by this script/);
    } finally {
      server.close();
    }
  });

  it('starts once, says so when started again, and stop ends its own process', async () => {
    const port = await freePort();
    const env = {
      FIRESTORE_EMULATOR_PORT: String(port),
      TMPDIR: await mkdtemp(path.join(tmpdir(), 'fb-emu-')),
    };
    const first = await emulator('start', env);
    try {
      expect(first.code, first.stderr).toBe(0);
      const pid = Number(/pid (\d+)/.exec(first.stdout)?.[1]);
      expect(first.stdout).toContain(`ready at 127.0.0.1:${port}`);
      const again = await emulator('start', env);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain(`already running at 127.0.0.1:${port} (pid ${pid})`);
      const stop = await emulator('stop', env);
      expect(stop.code).toBe(0);
      expect(alive(pid)).toBe(false);
    } finally {
      await emulator('stop', env);
    }
  }, 90_000);
});

const host = inject('firestoreEmulatorHost');

describe.skipIf(!host)('npm run seed (scripts/seed-emulator.ts)', () => {
  it('fills a project with collections, subcollections and every value type, ready to back up', async () => {
    const project = testProject('seed');
    const seed = await script(
      [
        process.execPath,
        '--import',
        'tsx',
        'scripts/seed-emulator.ts',
        '--project',
        project,
        '--users',
        '5',
      ],
      { FIRESTORE_EMULATOR_HOST: host },
    );
    expect(seed.code, seed.stderr).toBe(0);
    const written = Number(/Wrote (\d+) documents/.exec(seed.stdout)?.[1]);
    expect(written).toBeGreaterThan(30);

    const env = { ENCRYPTION_KEY: MasterKey.generate().revealHex(), FIRESTORE_EMULATOR_HOST: host };
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-seeded-'));
    const backup = await runCli(['backup', '--project', project, '--to', dir, '--json'], env);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.json()).toMatchObject({ documents: written });
    const inspect = await runCli(['inspect', 'latest', '--from', dir, '--json'], env);
    const shapes = inspect
      .json<{ collections: Array<{ collection: string }> }>()
      .collections.map((c) => c.collection);
    expect(shapes).toEqual(
      expect.arrayContaining([
        'products',
        'users',
        'users/{id}/orders',
        'users/{id}/orders/{id}/items',
        'chats/{id}/messages',
      ]),
    );
    const zoe = await runCli(
      ['inspect', 'latest', '--from', dir, '--path', 'users/zoë', '--json'],
      env,
    );
    const product = await runCli(
      ['inspect', 'latest', '--from', dir, '--path', 'products/mug', '--json'],
      env,
    );
    const kinds = new Set(
      [zoe, product].flatMap((r) =>
        Object.values(r.json<{ fields: Record<string, object> }>().fields).flatMap((v) =>
          Object.keys(v),
        ),
      ),
    );
    for (const kind of [
      'nullValue',
      'booleanValue',
      'integerValue',
      'doubleValue',
      'timestampValue',
      'stringValue',
      'bytesValue',
      'referenceValue',
      'geoPointValue',
      'arrayValue',
      'mapValue',
    ]) {
      expect(kinds, kind).toContain(kind);
    }
  }, 60_000);

  it('refuses to run without an emulator to write to', async () => {
    const seed = await script(
      [process.execPath, '--import', 'tsx', 'scripts/seed-emulator.ts', '--project', 'demo-x'],
      { FIRESTORE_EMULATOR_HOST: '' },
    );
    expect(seed.code).toBe(2);
    expect(seed.stderr).toMatch(/FIRESTORE_EMULATOR_HOST/);
  });
});
