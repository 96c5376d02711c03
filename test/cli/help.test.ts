/**
 * Each command's --help must be enough on its own: it exits 0, says what the command does,
 * lists every option, and the commands whose use is not obvious show examples, whose flags
 * all exist on that command (an example that names a missing flag teaches an error).
 */
import type { Command } from 'commander';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { HELP_EXAMPLES } from '../../src/cli/help-examples.js';
import { buildProgram } from '../../src/cli/main.js';
import { runCli } from '../helpers/run-cli.js';

const discard = new Writable({ write: (_chunk, _enc, cb) => cb() });

/** Every command and subcommand of the real program, as its words after `firebackup`. */
async function allCommands(): Promise<Array<{ path: string[]; command: Command }>> {
  const program = await buildProgram({ stdout: discard, stderr: discard, env: {} }, () => {});
  const found: Array<{ path: string[]; command: Command }> = [];
  const walk = (command: Command, path: string[]): void => {
    for (const sub of command.commands) {
      if (sub.name() === 'help') continue;
      found.push({ path: [...path, sub.name()], command: sub });
      walk(sub, [...path, sub.name()]);
    }
  };
  walk(program, []);
  return found;
}

/** The commands whose --help must show examples (the ones a new user gets wrong). */
const NEEDS_EXAMPLES = [
  'backup',
  'restore',
  'verify',
  'check',
  'keys',
  'keys generate',
  'keys rotate',
  'keys rewrap',
  'schedule add',
  'prune',
  'catalog rebuild',
  'queue',
  'audit verify',
  'audit export',
  'login',
  'whoami',
  'logout',
  'server',
  'ui',
];

describe('firebackup <command> --help', () => {
  it('every command exits 0 and shows its description and every option', async () => {
    const commands = await allCommands();
    expect(commands.length).toBeGreaterThan(25);
    for (const { path, command } of commands) {
      const run = await runCli([...path, '--help']);
      const name = path.join(' ');
      expect(run.code, name).toBe(0);
      expect(run.stdout, name).toMatch(new RegExp(`^Usage: firebackup ${name} `));
      expect(command.description().length, `${name} has a description`).toBeGreaterThan(10);
      expect(run.stdout, name).toContain(command.description().slice(0, 30).split(' ')[0]);
      for (const option of command.options.filter((o) => !o.hidden))
        expect(run.stdout, name).toContain(option.long);
      // An option with a default says it (commander prints defaultValue; others in words).
      for (const option of command.options.filter((o) => o.defaultValue !== undefined))
        expect(run.stdout, `${name} ${option.long}`).toMatch(/\(default/);
    }
  });

  it('the commands that are not obvious show examples, and each example names real flags', async () => {
    const byName = new Map((await allCommands()).map((c) => [c.path.join(' '), c.command]));
    for (const name of NEEDS_EXAMPLES) {
      expect(HELP_EXAMPLES[name], `examples for ${name}`).toBeDefined();
      const run = await runCli([...name.split(' '), '--help']);
      expect(run.code, name).toBe(0);
      expect(run.stdout, name).toContain('Examples:');
    }
    for (const [name, examples] of Object.entries(HELP_EXAMPLES)) {
      const command = byName.get(name);
      expect(command, `${name} is a command`).toBeDefined();
      const flags = new Set(command!.options.map((o) => o.long));
      // Subcommands' flags count for a group's examples (`queue retry 12`).
      for (const sub of command!.commands) for (const o of sub.options) flags.add(o.long);
      // Flags after ` # ` are in a comment (what to do next), not part of the example.
      for (const line of examples) {
        expect(line, name).toMatch(new RegExp(`firebackup ${name.split(' ')[0]}\\b`));
        for (const flag of line.split(' # ')[0]!.match(/(?<![\w-])--[a-z][a-z0-9-]*/g) ?? [])
          expect(flags, `${name}: ${line}`).toContain(flag);
      }
    }
  });

  it('says the defaults the README documents, on the option they belong to', async () => {
    const defaults: Array<[command: string, option: string, shown: RegExp]> = [
      ['backup', '--compression-level', /default: 5\)/],
      ['backup', '--rtdb-memory', /default: 512\)/],
      ['check', '--min-age', /default 1d/],
      ['history', '--limit', /default: 20\)/],
      ['ui', '--port', /default: 0\)/],
      ['schedule add', '--tz', /default: "UTC"\)/],
      ['schedule add', '--verify-batch', /default: 3\)/],
      ['prune', '--tz', /default: the schedule's, else UTC\)/],
      ['restore', '--mode', /default: "create"\)/],
    ];
    for (const [command, option, shown] of defaults) {
      const help = (await runCli([...command.split(' '), '--help'])).stdout;
      // The option's own entry: from its flag to the next option.
      const entry = help.slice(help.indexOf(`  ${option} `)).split(/\n {2}-/)[0]!;
      expect(entry.replace(/\s+/g, ' '), `${command} ${option}`).toMatch(shown);
    }
  });

  it('the top-level help lists the exit codes the README documents', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Exit codes:');
    const text = run.stdout.slice(run.stdout.indexOf('Exit codes:')).replace(/\s+/g, ' ');
    for (const code of [
      '0 success',
      '1 the operation failed',
      '2 bad usage',
      '3 an archive is damaged',
      '4 a key is missing',
      '130 cancelled',
    ])
      expect(text).toContain(code);
  });

  it('server --help names the variables it needs and its default address', async () => {
    const run = await runCli(['server', '--help']);
    expect(run.code).toBe(0);
    for (const name of ['JWT_SECRET', 'DATABASE_URL', 'REDIS_URL', 'HOST', 'PORT', '4000'])
      expect(run.stdout).toContain(name);
  });
});
