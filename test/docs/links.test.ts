/**
 * The user documentation must not point at things that are not there: every relative
 * Markdown link (and its #anchor) in README.md and docs/ must resolve, and every repository
 * path quoted in backticks (`docs/…`, `src/…`, `scripts/…`) must exist. A reader who
 * follows a reference and finds nothing stops trusting the rest of the page.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { docFiles, repoRoot } from '../helpers/doc-files.js';

const root = repoRoot;

/** Text outside fenced code blocks: links shown as code are examples, not references. */
function prose(text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, '');
}

/**
 * GitHub's heading anchors: lower case, punctuation dropped (hyphens and underscores kept),
 * spaces turned into hyphens, and -1, -2… appended to repeated headings.
 */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const match of prose(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = match[1]!
      .replace(/`/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

interface Reference {
  file: string;
  target: string;
}

/** Relative Markdown links and images: [text](target) and ![alt](target). */
function relativeLinks(file: string, text: string): Reference[] {
  const refs: Reference[] = [];
  for (const match of prose(text).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = match[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, …
    refs.push({ file, target });
  }
  return refs;
}

/** Repository paths quoted as code in prose: `docs/design.md`, `src/cli/main.ts`. */
function quotedPaths(file: string, text: string): Reference[] {
  const refs: Reference[] = [];
  for (const match of prose(text).matchAll(
    /`((?:docs|src|test|scripts|bench|deploy|bin|resources|\.ci)\/[\w./-]*)`/g,
  ))
    refs.push({ file, target: match[1]! });
  return refs;
}

function broken(ref: Reference, fromRoot: boolean): string | undefined {
  const [filePart, anchor] = ref.target.split('#', 2) as [string, string | undefined];
  const resolved = filePart
    ? fromRoot
      ? path.join(root, filePart)
      : path.join(root, path.dirname(ref.file), decodeURIComponent(filePart))
    : path.join(root, ref.file);
  if (!existsSync(resolved)) return `${ref.file}: ${ref.target} (no such file)`;
  if (anchor === undefined) return undefined;
  if (statSync(resolved).isDirectory() || !resolved.endsWith('.md'))
    return `${ref.file}: ${ref.target} (an anchor into something that is not Markdown)`;
  if (!anchorsOf(readFileSync(resolved, 'utf8')).has(anchor))
    return `${ref.file}: ${ref.target} (no heading with that anchor)`;
  return undefined;
}

describe('documentation references', () => {
  const files = docFiles({ recursive: true });

  it('finds the documents it checks', () => {
    expect(files).toEqual(
      expect.arrayContaining(['README.md', 'docs/design.md', 'docs/server.md']),
    );
  });

  it('every relative link and anchor points at something that exists', () => {
    const problems = files.flatMap((file) =>
      relativeLinks(file, readFileSync(path.join(root, file), 'utf8'))
        .map((ref) => broken(ref, false))
        .filter((p): p is string => p !== undefined),
    );
    expect(problems).toEqual([]);
  });

  it('every repository path quoted in backticks exists', () => {
    const problems = files.flatMap((file) =>
      quotedPaths(file, readFileSync(path.join(root, file), 'utf8'))
        .map((ref) => broken(ref, true))
        .filter((p): p is string => p !== undefined),
    );
    expect(problems).toEqual([]);
  });

  it('the checker itself notices a missing file and a missing anchor', () => {
    expect(anchorsOf('# Set up\n## The main job: back up, then restore\n## Set up')).toEqual(
      new Set(['set-up', 'the-main-job-back-up-then-restore', 'set-up-1']),
    );
    expect(broken({ file: 'README.md', target: 'docs/nope.md' }, false)).toMatch(/no such file/);
    expect(broken({ file: 'README.md', target: 'docs/design.md#no-such-heading' }, false)).toMatch(
      /no heading/,
    );
    expect(broken({ file: 'README.md', target: '#set-up' }, false)).toBeUndefined();
    expect(broken({ file: 'docs/server.md', target: 'design.md' }, false)).toBeUndefined();
  });
});
