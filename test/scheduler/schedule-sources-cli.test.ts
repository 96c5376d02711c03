import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCliSandbox } from '../helpers/cli-sandbox.js';
import { runCli } from '../helpers/run-cli.js';

/**
 * `schedule add` keeps the sources and their filters in the schedule's scope (which the
 * scheduler hands to each run: test/jobs/scheduled-sources.test.ts), and refuses a
 * filter for a source the schedule leaves out, which every run would otherwise ignore.
 */
const KEY = randomBytes(32).toString('hex');
let dir: string;
let dest: string;

beforeAll(() => ({ dir, dest } = makeCliSandbox('fb-cli-sched-src-', KEY)));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('schedule add with sources', () => {
  const add = (name: string, extra: string[]): ReturnType<typeof runCli> =>
    runCli(
      [
        ...['schedule', 'add', name, '--project', 'demo', '--emulator', '127.0.0.1:1'],
        ...['--to', dest, '--cron', '0 2 * * *', ...extra],
      ],
      { FIREBACKUP_HOME: path.join(dir, 'home'), ENCRYPTION_KEY: KEY },
    );

  it('keeps the sources, buckets and prefix in the scope', async () => {
    const run = await add('files', [
      ...['--sources', 'storage,firestore', '--buckets', 'b1,b2', '--storage-prefix', 'up/'],
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const list = await runCli(['schedule', 'list', '--json'], {
      FIREBACKUP_HOME: path.join(dir, 'home'),
    });
    expect(list.json<Array<{ name: string; scope: unknown }>>()).toMatchObject([
      {
        name: 'files',
        scope: { sources: ['firestore', 'storage'], buckets: ['b1', 'b2'], storagePrefix: 'up/' },
      },
    ]);
  });

  it('refuses Storage filters on a schedule without the storage source', async () => {
    const run = await add('no-storage', ['--buckets', 'b1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/buckets selects storage data.*add "storage" to sources/);
  });
});
