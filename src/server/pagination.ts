import { z } from 'zod';
import { AppError } from '../shared/errors.js';
import type { Tx } from './db/db.js';

/**
 * Keyset pagination of the list routes: pages of `limit` rows (50 by default, at most
 * 200) ordered on (created_at, id), and an opaque `nextCursor` naming the last row given,
 * so the next page is a range scan of the (organisation_id, created_at, id) index from
 * there — never OFFSET, which reads and throws away every earlier row, and which skips or
 * repeats rows when some are added or removed between pages.
 *
 * The cursor holds created_at as PostgreSQL's own text (microseconds), not a JavaScript
 * Date (milliseconds): rows whose times differ below a millisecond would otherwise be
 * skipped or repeated.
 */
export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 200;

export const PageQuery = {
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(DEFAULT_PAGE),
  cursor: z.string().max(400).optional(),
};

export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
}

export interface Page<R> {
  items: R[];
  nextCursor: string | null;
}

/**
 * A timestamptz column read as the text JSON gives a JavaScript Date
 * ("2026-11-30T11:04:17.123Z": UTC, milliseconds truncated as Date truncates them), aliased
 * `alias`. List answers carry many: PostgreSQL writing the text spares the server parsing
 * each into a Date and serialising it back, the largest per-row cost of a page
 * (docs/benchmarks.md). The answer is the same to the byte.
 */
export function isoTime(column: string, alias: string): string {
  return `${isoText(column)} AS "${alias}"`;
}

function isoText(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/**
 * `select` with each of `columns` (written `column AS "alias"` in it) read by isoTime:
 * for a column list shared with writes' RETURNING, which keep their Dates. A column not
 * found is a programming error, thrown when the route table is built.
 */
export function isoTimes(select: string, columns: readonly string[]): string {
  return columns.reduce((text, column) => {
    if (!text.includes(`${column} AS "`))
      throw new Error(`isoTimes: no "${column} AS" in the select list`);
    return text.replace(`${column} AS "`, `${isoText(column)} AS "`);
  }, select);
}

/** A key column of the sort, and the SQL type its cursor text is read back as. */
export interface SortKey {
  column: string;
  type: 'timestamptz' | 'text' | 'bigint';
}

/** (created_at, id): the order of every catalog list. */
export const BY_CREATED: readonly SortKey[] = [
  { column: 'created_at', type: 'timestamptz' },
  { column: 'id', type: 'text' },
];

function encode(position: readonly string[]): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

function decode(cursor: string, keys: readonly SortKey[]): string[] {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(value) &&
      value.length === keys.length &&
      value.every((v, i) => typeof v === 'string' && valid(v, keys[i]!.type))
    )
      return value as string[];
  } catch {
    // fall through to the error below
  }
  throw new AppError(
    'INVALID_ARGUMENT',
    'The cursor is not one this server gave; pass the nextCursor of the previous page unchanged, or leave it out to start from the first page.',
  );
}

/** Checked before it reaches SQL, so a forged cursor is a 400, not a database error. */
function valid(text: string, type: SortKey['type']): boolean {
  if (type === 'bigint') return /^\d{1,19}$/.test(text);
  if (type === 'timestamptz')
    return /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d{1,6})?([+-]\d\d(:?\d\d)?|Z)?$/.test(text);
  return text.length > 0 && text.length <= 200;
}

export interface ListSpec {
  /** The select list (aliases in "camelCase" as the answer names them). */
  select: string;
  from: string;
  /** Extra conditions with $n placeholders numbered after `params`. */
  where?: readonly string[];
  params?: readonly unknown[];
  /** Newest first (desc) or oldest first (asc). */
  order: 'asc' | 'desc';
  /** The sort key; (created_at, id) unless named otherwise. */
  key?: readonly SortKey[];
}

/** The statement reading one page of `spec`: `columns` on each row, then the cursor's key. */
function pageStatement(
  spec: ListSpec,
  page: PageRequest,
  columns: string,
): { sql: string; params: unknown[]; key: readonly SortKey[] } {
  const key = spec.key ?? BY_CREATED;
  const keyColumns = key.map((k) => k.column).join(', ');
  const params = [...(spec.params ?? [])];
  const where = [...(spec.where ?? [])];
  if (page.cursor !== undefined) {
    const position = decode(page.cursor, key);
    const placeholders = key.map((k, i) => {
      params.push(position[i]);
      return `$${params.length}::${k.type}`;
    });
    const op = spec.order === 'desc' ? '<' : '>';
    where.push(`(${keyColumns}) ${op} (${placeholders.join(', ')})`);
  }
  params.push(page.limit + 1);
  const limit = `$${params.length}`;
  const dir = spec.order === 'desc' ? 'DESC' : 'ASC';
  const order = key.map((k) => `${k.column} ${dir}`).join(', ');
  // The cursor's key text only on the page's last row (the one a next page starts after),
  // null on the others: a 200-row page carries 2 key columns once, not 200 times.
  const cursorKey = key.map(
    (k, i) =>
      `CASE WHEN row_number() OVER (ORDER BY ${order}) = ${limit} - 1 THEN ${k.column}::text END AS "__k${i}"`,
  );
  const sql = `SELECT ${columns}, ${cursorKey.join(', ')}
       FROM ${spec.from}
      ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY ${order} LIMIT ${limit}`;
  return { sql, params, key };
}

/** The rows of a page (the extra row read to know there is more left out), and its cursor. */
function pageOf<T extends Record<string, unknown>>(
  rows: T[],
  page: PageRequest,
  key: readonly SortKey[],
): { kept: T[]; nextCursor: string | null } {
  const more = rows.length > page.limit;
  const kept = more ? rows.slice(0, page.limit) : rows;
  const last = kept[kept.length - 1];
  return {
    kept,
    nextCursor:
      more && last !== undefined ? encode(key.map((_, i) => String(last[`__k${i}`]))) : null,
  };
}

/**
 * One page of `spec`, with the cursor to the next one (null on the last page). The page is
 * the transaction's last statement: it leaves with the COMMIT (Tx.queryAndCommit, ADR
 * 0027), so a list read waits for PostgreSQL twice, not three times.
 */
export async function listPage<R extends object>(
  tx: Tx,
  spec: ListSpec,
  page: PageRequest,
): Promise<Page<R>> {
  const { sql, params, key } = pageStatement(spec, page, spec.select);
  const rows = await tx.queryAndCommit<Record<string, unknown>>(sql, params);
  const { kept, nextCursor } = pageOf(rows, page, key);
  // The answer's columns, found once per page: copying them by name into a fresh object
  // costs a fraction of an entries/filter/fromEntries round per row (a 200-row page).
  const last = kept[kept.length - 1];
  const names = last === undefined ? [] : Object.keys(last).filter((n) => !n.startsWith('__k'));
  const strip = (row: Record<string, unknown>) => {
    const item: Record<string, unknown> = {};
    for (const name of names) item[name] = row[name];
    return item as R;
  };
  return { items: kept.map(strip), nextCursor };
}

/**
 * One page of `spec` as the answer's JSON text, `{"<field>":[…],"nextCursor":…}`, each
 * row's object written by PostgreSQL (`row_to_json` of the select list: its names, in its
 * order, nulls as null) and joined here as is (ADR 0026). The server neither parses each
 * row's columns into values nor serialises them again, the largest per-row costs of a
 * large page (docs/benchmarks.md).
 *
 * The row's JSON comes from a LATERAL subquery whose only column is that text: the select
 * list inside it keeps its meaning (its columns are the row's), its names stay inside (so
 * they cannot collide with the columns the order and filters name), and PostgreSQL folds
 * it into the scan (a subquery in the select list instead ran once per row, and cost
 * PostgreSQL as much CPU as it saved the server). Like listPage, the transaction's last
 * statement, sent with its COMMIT.
 */
export async function listPageJson(
  tx: Tx,
  spec: ListSpec,
  page: PageRequest,
  field: string,
): Promise<string> {
  const withJson = {
    ...spec,
    from: `${spec.from}, LATERAL (SELECT row_to_json(x)::text AS "__json" FROM (SELECT ${spec.select}) x) "__row"`,
  };
  const { sql, params, key } = pageStatement(withJson, page, '"__row"."__json"');
  const rows = await tx.queryAndCommit<{ __json: string }>(sql, params);
  const { kept, nextCursor } = pageOf(rows, page, key);
  let items = '';
  for (const [i, row] of kept.entries()) items += i === 0 ? row.__json : `,${row.__json}`;
  return `{${JSON.stringify(field)}:[${items}],"nextCursor":${JSON.stringify(nextCursor)}}`;
}
