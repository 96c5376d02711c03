import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { AppError } from '../../shared/errors.js';
import type { AuditInput } from '../audit.js';
import type { OrgCaller, Rule, ServerContext } from '../auth.js';
import type { Tx } from '../db/db.js';
import type { WriteOutcome } from '../idempotency.js';

/**
 * One route under /api/v1/organizations/:orgId. Each names the rule it is checked
 * against (from the guide's permission matrix in src/shared/rbac.ts); the route-by-role
 * test and the OpenAPI document are generated from the table of them (ORG_ROUTES).
 */
export interface OrgRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path below /api/v1/organizations/:orgId ('' for the organisation itself). */
  path: string;
  rule: Rule;
  /** For the OpenAPI document (with `body`/`query`, the same schemas the handler parses). */
  summary: string;
  /** The status of a successful answer when not the method's usual one (SUCCESS). */
  success?: 200 | 201 | 204;
  body?: z.ZodTypeAny;
  query?: z.AnyZodObject;
  /**
   * Reads the audit chain: entries committed before the call are linked first (they are
   * linked just after their request otherwise; see audit-linker.ts), so the answer shows
   * a chain with every entry in its place.
   */
  linksAuditFirst?: boolean;
  /**
   * The answer is written by a serialiser compiled from the route's schema in
   * responses.ts (answer-schema.ts, ADR 0021): the list routes, whose pages are the
   * largest answers. A list answered with PostgreSQL's JSON text (JsonText, ADR 0026)
   * is sent as is and never reaches the serialiser.
   */
  compiledAnswer?: true;
  /** Runs in the organisation's RLS context; `audit` appends in the same transaction. */
  handle: (
    tx: Tx,
    c: OrgCaller,
    request: FastifyRequest,
    audit: (input: Omit<AuditInput, 'actor'>) => Promise<void>,
    ctx: ServerContext,
  ) => Promise<WriteOutcome & { file?: { type: string; name: string } }>;
}

/** A path parameter of the route ('' when missing). */
export function param(request: FastifyRequest, name: string): string {
  return (request.params as Record<string, string>)[name] ?? '';
}

/** 404 for a resource the caller's organisation does not hold (others' included). */
export function notFound(what: string, id: string): AppError {
  return new AppError('NOT_FOUND', `No ${what} ${id} in this organisation.`);
}

/** The organisation's project `id` exists (RLS hides other organisations', hence 404). */
export async function requireProject(tx: Tx, id: string): Promise<void> {
  const [project] = await tx.query('SELECT 1 FROM projects WHERE id = $1', [id]);
  if (project === undefined) throw notFound('project', id);
}
