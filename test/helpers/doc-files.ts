import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root folder. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The user documentation, as repository paths: README.md, src/renderer/README.md and the
 * .md files of docs/ (with `recursive`, docs/adr/ too).
 */
export function docFiles(options: { recursive?: boolean } = {}): string[] {
  const inDocs = readdirSync(path.join(repoRoot, 'docs'), { recursive: options.recursive ?? false })
    .map(String)
    .filter((f) => f.endsWith('.md'))
    .map((f) => path.posix.join('docs', f.split(path.sep).join('/')));
  return ['README.md', 'src/renderer/README.md', ...inDocs];
}
