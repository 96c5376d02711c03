import { AppError } from '../../shared/errors.js';

/**
 * References from a queued action to something created on this machine (a project, a
 * destination, a schedule, a run) whose server id is not known until its own queued
 * creation is delivered. The queue stores a token in the path or body; delivery puts the
 * server's id in its place (the map is filled when the creation is answered). Tokens are
 * replaced the same way on every attempt, so a resend is the very same request and the
 * server's Idempotency-Key replay recognises it.
 */

export type LocalKind = 'project' | 'destination' | 'schedule' | 'run';

/** The queue's name for a local record: `project:prj_…`. */
export const localRef = (kind: LocalKind, localId: string): string => `${kind}:${localId}`;

/** Stands for the record's server id; the server must have it (or the action fails). */
export const refToken = (kind: LocalKind, localId: string): string =>
  `@local:${localRef(kind, localId)}`;

/** An optional reference: a body field dropped when the server has no such record. */
export const optionalRefToken = (kind: LocalKind, localId: string): string =>
  `@local?:${localRef(kind, localId)}`;

const TOKEN = /@local(\??):((?:project|destination|schedule|run):[A-Za-z0-9_.-]+)/g;
const WHOLE = /^@local(\??):((?:project|destination|schedule|run):[A-Za-z0-9_.-]+)$/;

/** The server id of a local record: a string, or undefined when the server has none. */
export type IdLookup = (ref: string) => string | undefined;

function missing(ref: string): AppError {
  return new AppError(
    'FAILED_PRECONDITION',
    `This change refers to ${ref.replace(':', ' ')}, which the organisation server does not have (its own queued creation was refused or discarded: see the team queue). Add it on the server, then retry; or discard this change.`,
  );
}

export function resolvePath(path: string, lookup: IdLookup): string {
  return path.replace(TOKEN, (_all, _optional: string, ref: string) => {
    const id = lookup(ref);
    if (id === undefined) throw missing(ref);
    return encodeURIComponent(id);
  });
}

/** A copy of `body` with every token replaced (optional ones without an id are left out). */
export function resolveBody(body: unknown, lookup: IdLookup): unknown {
  if (typeof body === 'string') {
    const whole = WHOLE.exec(body);
    if (whole === null) return body;
    const id = lookup(whole[2]!);
    if (id === undefined) throw missing(whole[2]!);
    return id;
  }
  if (Array.isArray(body)) return body.map((v) => resolveBody(v, lookup));
  if (body === null || typeof body !== 'object') return body;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    const whole = typeof value === 'string' ? WHOLE.exec(value) : null;
    if (whole !== null && whole[1] === '?' && lookup(whole[2]!) === undefined) continue;
    out[key] = resolveBody(value, lookup);
  }
  return out;
}

/**
 * Creations that take the organisation's record with the same identity instead of making
 * a second one: a project someone else already added (same Firebase project), a
 * destination already shared (same URL). A member who may not add projects still works on
 * the organisation's.
 */
export const SAME_ON_SERVER: Partial<Record<LocalKind, { list: string; key: string }>> = {
  project: { list: 'projects', key: 'firebaseProjectId' },
  destination: { list: 'destinations', key: 'url' },
};
