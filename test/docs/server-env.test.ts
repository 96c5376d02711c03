/**
 * docs/server.md's table of environment variables is what an operator configures the
 * server from: it must name every variable the server reads (CONFIG_VARIABLES), no
 * variable it does not read, and the defaults the server really applies.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, loadConfig } from '../../src/server/config.js';
import { repoRoot } from '../helpers/doc-files.js';

const secret = { JWT_SECRET: 'x'.repeat(32) };

interface Row {
  names: string[];
  defaults: string;
}

/** The rows of the "## Environment variables" table: names (with `_CERT` expanded) and default. */
function rows(): Row[] {
  const doc = readFileSync(path.join(repoRoot, 'docs/server.md'), 'utf8');
  const section = doc.split(/^## Environment variables$/m)[1]!.split(/^## /m)[0]!;
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const [namesCell, defaultCell] = line
        .split('|')
        .slice(1, 3)
        .map((c) => c.trim()) as [string, string];
      const quoted = [...namesCell.matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]!);
      // `DATABASE_SSL_CA`, `_CERT`, `_KEY`: a suffix shares the first name's prefix.
      const prefix = quoted[0]!.replace(/_[A-Z]+$/, '');
      const names = quoted.map((n) => (n.startsWith('_') ? prefix + n : n));
      return { names, defaults: defaultCell };
    });
}

describe('docs/server.md environment variables', () => {
  const table = rows();
  const documented = table.flatMap((r) => r.names);

  it('lists exactly the variables the server reads', () => {
    expect([...documented].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it('gives the defaults the server applies', () => {
    const defaults = loadConfig(secret) as unknown as Record<string, unknown>;
    let compared = 0;
    for (const { names, defaults: cell } of table) {
      if (cell.startsWith('unset')) {
        for (const name of names) expect(defaults[name], name).toBeUndefined();
        continue;
      }
      const literals = [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
      // Placeholders (`<data folder>/…`) are computed at start-up, not by the schema.
      if (literals.length !== names.length || !cell.startsWith('`') || cell.includes('<')) continue;
      names.forEach((name, i) => {
        // The documented value, given explicitly, must configure what the default does.
        const given = loadConfig({ ...secret, [name]: literals[i] }) as unknown as Record<
          string,
          unknown
        >;
        expect(given[name], `${name}=${literals[i]}`).toEqual(defaults[name]);
        compared++;
      });
    }
    expect(compared).toBeGreaterThan(20);
  });
});
