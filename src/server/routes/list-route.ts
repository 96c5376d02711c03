import { z } from 'zod';
import type { Rule } from '../auth.js';
import type { Tx } from '../db/db.js';
import { JsonText } from '../http.js';
import {
  listPage,
  listPageJson,
  PageQuery,
  type ListSpec,
  type PageRequest,
} from '../pagination.js';
import { parseBody } from './body.js';
import type { OrgRoute } from './org-route.js';

/** The query of a list route without filters: `limit` and `cursor`. */
export const Page = z.object(PageQuery);

export interface ListRoute<Row extends object> {
  path: string;
  rule: Rule;
  summary: string;
  /** The answer's name for the page's items: `{ [field]: [...], nextCursor }`. */
  field: string;
  /** What to read: select list, table, order and sort key (pagination.ts). */
  list: Omit<ListSpec, 'where' | 'params'>;
  /** The query schema; `Page` unless the route has filters. */
  query?: z.AnyZodObject;
  /** Query parameters that select rows whose column equals them: `{ projectId: 'project_id' }`. */
  filters?: Readonly<Record<string, string>>;
  /** Shapes a row for the answer; rows go out as read without one. */
  view?: (row: Row) => unknown;
}

/** A list route as built by listRoute: an org route that also names the list it reads. */
export interface ListOrgRoute extends OrgRoute {
  list: ListRoute<object>;
}

/**
 * The answer of list route `def` to the query `raw`: one keyset page of `def.list`,
 * filtered by equality on the query's `filters`. Without a `view`, PostgreSQL writes each
 * row's JSON and the answer is that text (`json`, ADR 0026); with one, or asked for
 * `objects`, the rows are read as values and shaped by the view, for Fastify to serialise.
 * Both give clients the same answer (test/server/list-json.test.ts).
 */
export async function listAnswer<Row extends object>(
  tx: Tx,
  def: ListRoute<Row>,
  raw: unknown,
  how: 'json' | 'objects' = def.view === undefined ? 'json' : 'objects',
): Promise<JsonText | Record<string, unknown>> {
  const q = parseBody(def.query ?? Page, raw) as PageRequest & Record<string, unknown>;
  const where: string[] = [];
  const params: unknown[] = [];
  for (const [name, column] of Object.entries(def.filters ?? {}))
    if (q[name] !== undefined) {
      params.push(q[name]);
      where.push(`${column} = $${params.length}`);
    }
  const spec = { ...def.list, where, params };
  if (how === 'json' && def.view === undefined)
    return new JsonText(await listPageJson(tx, spec, q, def.field));
  const page = await listPage<Row>(tx, spec, q);
  const items = def.view === undefined ? page.items : page.items.map(def.view);
  return { [def.field]: items, nextCursor: page.nextCursor };
}

/**
 * A GET list route of the organisation: one keyset page of `list` (oldest or newest
 * first), filtered by equality on the query's `filters`, answered as `{ [field], nextCursor }`.
 * Every list under /api/v1/organizations/:orgId has that one shape.
 */
export function listRoute<Row extends object>(def: ListRoute<Row>): ListOrgRoute {
  return {
    method: 'GET',
    path: def.path,
    rule: def.rule,
    summary: def.summary,
    query: def.query ?? Page,
    compiledAnswer: true,
    list: def as ListRoute<object>,
    async handle(tx, _c, request) {
      return { body: await listAnswer(tx, def, request.query) };
    },
  };
}
