import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The architecture's import rules (eslint.config.js), fed violating imports: each must be
 * reported, so a rule that silently stops resolving paths (as `import-x/no-restricted-paths`
 * did before it was given a resolver for NodeNext's './x.js' → x.ts) fails here.
 */
const eslint = new ESLint({ cwd: process.cwd() });

async function problems(file: string, specifier: string): Promise<string[]> {
  const code = `import * as m from '${specifier}';\nexport const x = m;\n`;
  const [result] = await eslint.lintText(code, { filePath: file });
  return (result?.messages ?? [])
    .filter(
      (m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'import-x/no-restricted-paths',
    )
    .map((m) => m.message);
}

const refused: [file: string, specifier: string][] = [
  ['src/engine/x.ts', 'electron'],
  ['src/engine/x.ts', '../main/ipc.js'],
  ['src/engine/x.ts', '../cli/main.js'],
  ['src/engine/jobs/x.ts', '../../main/security.js'],
  ['src/shared/x.ts', 'electron'],
  ['src/shared/x.ts', 'node:fs'],
  ['src/shared/x.ts', '../engine/paths.js'],
  ['src/shared/api/x.ts', '../../main/ipc.js'],
  ['src/cli/x.ts', 'electron'],
  ['src/cli/x.ts', '../main/ipc.js'],
  ['src/renderer/x.ts', 'electron'],
  ['src/renderer/x.ts', 'node:fs'],
  ['src/renderer/x.ts', 'path'],
  ['src/renderer/x.ts', '../engine/paths.js'],
  ['src/renderer/features/x.ts', '../../main/security.js'],
  ['src/preload/x.ts', '../engine/paths.js'],
  ['src/preload/x.ts', '../main/ipc.js'],
  ['src/preload/x.ts', 'node:path'],
  ['src/preload/x.ts', 'fs'],
];

const allowed: [file: string, specifier: string][] = [
  ['src/main/x.ts', 'electron'],
  ['src/main/x.ts', '../engine/jobs/runtime.js'],
  ['src/main/x.ts', 'node:path'],
  ['src/preload/x.ts', 'electron'],
  ['src/preload/x.ts', '../shared/api/contract.js'],
  ['src/renderer/x.ts', '../shared/api/client.js'],
  ['src/engine/x.ts', '../shared/errors.js'],
  ['src/engine/x.ts', 'node:fs'],
];

describe('lint enforces the import rules of the architecture', () => {
  it.each(refused)('%s may not import %s', async (file, specifier) => {
    expect(await problems(file, specifier)).not.toEqual([]);
  });

  it.each(allowed)('%s may import %s', async (file, specifier) => {
    expect(await problems(file, specifier)).toEqual([]);
  });
});
