import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import { describe, expect, inject, it } from 'vitest';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { buildProgram, commandsFor } from '../../src/cli/main.js';
import { runCli } from '../helpers/run-cli.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The project's own modules (paths under src/, no extension) a child `firebackup <args>` loaded. */
async function sourcesLoaded(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const record = path.join(await mkdtemp(path.join(tmpdir(), 'fb-loads-')), 'loads.txt');
  await promisify(execFile)(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      './test/helpers/record-module-loads.mjs',
      'test/helpers/cli-entry.ts',
      ...args,
    ],
    { cwd: ROOT, env: { ...process.env, ...env, RECORD_MODULE_LOADS: record } },
  );
  const urls = (await readFile(record, 'utf8')).split('\n');
  return urls.flatMap((url) => /\/src\/([\w/-]+)\.ts$/.exec(url)?.[1] ?? []);
}

async function commandModulesLoaded(args: string[]): Promise<string[]> {
  const loaded = await sourcesLoaded(args);
  return loaded.flatMap((file) => /^cli\/commands\/([\w-]+)$/.exec(file)?.[1] ?? []);
}

/** Help text of `args` from a program built with every command (the eager CLI). */
async function eagerHelp(args: string[]): Promise<string> {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString('utf8');
      cb();
    },
  });
  const program = await buildProgram({ stdout: stream, stderr: stream, env: {} }, () => {});
  await program.parseAsync(['node', 'firebackup', ...args]).catch(() => undefined);
  return text;
}

describe('firebackup start-up loads only the command it runs', () => {
  it('--version loads no command module; `backup --help` loads only backup', async () => {
    expect(await commandModulesLoaded(['--version'])).toEqual([]);
    expect(await commandModulesLoaded(['backup', '--help'])).toEqual(['backup']);
    // Nor does the engine's backup load before a backup runs.
    expect(await sourcesLoaded(['backup', '--help'])).not.toContain('engine/operations/backup');
  }, 60_000);

  it.skipIf(!inject('gcsEmulatorHost'))(
    'a Storage-only backup never loads the Firestore client (google-gax, gRPC)',
    async () => {
      const to = await mkdtemp(path.join(tmpdir(), 'fb-loads-to-'));
      const loaded = await sourcesLoaded(
        [
          ...['backup', '--project', 'demo-firebackup', '--sources', 'storage'],
          ...['--storage-emulator', inject('gcsEmulatorHost'), '--buckets', 'startup-empty'],
          ...['--to', to, '--quiet'],
        ],
        { ENCRYPTION_KEY: MasterKey.generate().revealHex() },
      );
      expect(loaded).toContain('engine/sources/storage/export');
      expect(loaded.filter((f) => f.startsWith('engine/sources/firestore/'))).toEqual([]);
    },
    60_000,
  );

  it('the team commands load only themselves, never the organisation server', async () => {
    for (const name of ['audit', 'login', 'logout', 'whoami', 'queue']) {
      expect(await commandModulesLoaded([name, '--help'])).toEqual([name]);
      expect(
        (await sourcesLoaded([name, '--help'])).filter((f) => f.startsWith('server/')),
      ).toEqual([]);
    }
  }, 60_000);

  it('picks the commands from the first argument', () => {
    const all = commandsFor(['node', 'firebackup']);
    expect(all).toContain('backup');
    expect(all).toContain('server');
    expect(all.slice(-5)).toEqual(['audit', 'login', 'logout', 'whoami', 'queue']);
    expect(commandsFor(['node', 'firebackup', '-V'])).toEqual([]);
    expect(commandsFor(['node', 'firebackup', 'restore', 'latest'])).toEqual(['restore']);
    for (const first of ['--help', 'help', 'bakcup', '--json']) {
      expect(commandsFor(['node', 'firebackup', first])).toEqual(all);
    }
  });

  it('help is the same as with every command loaded, for the program and each command', async () => {
    const top = await runCli(['--help']);
    expect(top.stdout).toBe(await eagerHelp(['--help']));
    // Every command the help lists is in the table, so none can go missing lazily.
    const listed = [...top.stdout.matchAll(/^ {2}(\w+) /gm)].map((m) => m[1]);
    expect(listed.filter((name) => name !== 'help')).toEqual(commandsFor(['node', 'firebackup']));
    for (const name of commandsFor(['node', 'firebackup'])) {
      const run = await runCli([name, '--help']);
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(await eagerHelp([name, '--help']));
    }
  }, 60_000);
});
