import { z } from 'zod';
import type { Rule } from '../auth.js';
import { listPage, PageQuery, type ListSpec, type PageRequest } from '../pagination.js';
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

/**
 * A GET list route of the organisation: one keyset page of `list` (oldest or newest
 * first), filtered by equality on the query's `filters`, answered as `{ [field], nextCursor }`.
 * Every list under /api/v1/organizations/:orgId has that one shape.
 */
export function listRoute<Row extends object>(def: ListRoute<Row>): OrgRoute {
  const query = def.query ?? Page;
  return {
    method: 'GET',
    path: def.path,
    rule: def.rule,
    summary: def.summary,
    query,
    compiledAnswer: true,
    async handle(tx, _c, request) {
      const q = parseBody(query, request.query) as PageRequest & Record<string, unknown>;
      const where: string[] = [];
      const params: unknown[] = [];
      for (const [name, column] of Object.entries(def.filters ?? {}))
        if (q[name] !== undefined) {
          params.push(q[name]);
          where.push(`${column} = $${params.length}`);
        }
      const page = await listPage<Row>(tx, { ...def.list, where, params }, q);
      const items = def.view === undefined ? page.items : page.items.map(def.view);
      return { body: { [def.field]: items, nextCursor: page.nextCursor } };
    },
  };
}
