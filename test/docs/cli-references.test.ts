/**
 * The commands the documentation shows must be the CLI's: every `firebackup <command>` in
 * README.md and docs/ (in examples and in inline code such as `restore --to-dir`) names a
 * command that exists, and every --flag shown with it is one of that command's options.
 * A renamed flag then fails here instead of in a reader's terminal.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { docFiles, repoRoot } from '../helpers/doc-files.js';

const root = repoRoot;
const discard = new Writable({ write: (_chunk, _enc, cb) => cb() });

interface Usage {
  file: string;
  words: string[];
  text: string;
}

/**
 * Command lines in a document: `firebackup …` anywhere (examples join their `\` line
 * continuations), and inline code that starts with a command's name and shows a flag.
 */
function usages(file: string, markdown: string, commandNames: Set<string>): Usage[] {
  const text = markdown.replace(/\\\n/g, ' ');
  const found: Usage[] = [];
  for (const match of text.matchAll(/firebackup((?: +[^\s`|#]+)+)/g))
    found.push({ file, words: match[1]!.trim().split(/\s+/), text: match[0] });
  for (const match of text.matchAll(/`([a-z-]+(?: [^`]*)? --[^`]*)`/g)) {
    const words = match[1]!.split(/\s+/);
    if (commandNames.has(words[0]!)) found.push({ file, words, text: match[0] });
  }
  return found;
}

/** The deepest command the words name, and the words after it. */
function resolve(program: Command, words: string[]): { command: Command; rest: string[] } {
  let command = program;
  let i = 0;
  for (; i < words.length; i++) {
    const sub = command.commands.find((c) => c.name() === words[i]);
    if (!sub) break;
    command = sub;
  }
  return { command, rest: words.slice(i) };
}

describe('the CLI as the documentation shows it', async () => {
  const program = await buildProgram({ stdout: discard, stderr: discard, env: {} }, () => {});
  const names = new Set(program.commands.map((c) => c.name()));
  const all = docFiles().flatMap((file) =>
    usages(file, readFileSync(path.join(root, file), 'utf8'), names),
  );

  it('finds the documented command lines', () => {
    expect(all.length).toBeGreaterThan(80);
  });

  it('every documented command exists and every flag shown with it is its own', () => {
    const problems: string[] = [];
    for (const usage of all) {
      // `npx firebackup --help` is the program's own; `firebackup 0.1.0` is prose.
      if (!/^[a-z][a-z-]*$/.test(usage.words[0]!)) continue;
      const { command, rest } = resolve(program, usage.words);
      if (command === program) {
        problems.push(`${usage.file}: no command "${usage.words[0]}" (${usage.text})`);
        continue;
      }
      const flags = new Set(command.options.flatMap((o) => [o.long, o.short]));
      flags.add('--help');
      const shown = rest.join(' ').split(' # ')[0]!;
      for (const flag of shown.match(/(?<![\w-])--[a-z][a-z0-9-]*/g) ?? [])
        if (!flags.has(flag))
          problems.push(`${usage.file}: ${command.name()} has no ${flag} (${usage.text})`);
    }
    expect(problems).toEqual([]);
  });
});
