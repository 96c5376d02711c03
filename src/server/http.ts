import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, toErrorData, type ErrorCode } from '../shared/errors.js';
import type { RateLimitStore } from './shared-state.js';

/** The guide's security headers, on every answer (errors and 404s included). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Strict-Transport-Security': 'max-age=31536000; includeSubDomains; preload',
  'X-Frame-Options': 'SAMEORIGIN',
  'X-Content-Type-Options': 'nosniff',
  'X-XSS-Protection': '1; mode=block',
  'Referrer-Policy': 'strict-origin-when-cross-origin',
  // The guide's policy with its hosted API host replaced by this server ('self').
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; font-src 'self'; connect-src 'self';",
  'Permissions-Policy': 'geolocation=(), microphone=(), camera=()',
};

const STATUS: Partial<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  ABORTED: 409,
  RESOURCE_EXHAUSTED: 429,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

export function statusFor(code: ErrorCode): number {
  return STATUS[code] ?? 500;
}

/** JSON errors in the shared taxonomy: `{ error: { code, message, fault, retryable } }`. */
export function installErrorHandling(app: FastifyInstance): void {
  app.addHook('onSend', async (_request, reply) => {
    reply.headers(SECURITY_HEADERS);
  });
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    let appError: unknown = error;
    const status = (error as { statusCode?: number }).statusCode;
    // Fastify's own 4xx (bad JSON, body too large) become INVALID_ARGUMENT.
    if (!(error instanceof AppError) && status !== undefined && status >= 400 && status < 500)
      appError = new AppError('INVALID_ARGUMENT', (error as Error).message);
    const data = toErrorData(appError);
    if (data.code === 'INTERNAL') request.log.error(error);
    void reply.status(statusFor(data.code)).send({ error: data });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({
      error: toErrorData(new AppError('NOT_FOUND', `No route ${request.method} ${request.url}.`)),
    });
  });
}

export interface RateLimitRule {
  windowMs: number;
  max: number;
}

/**
 * Fixed-window limits per client address, and per API key when one is presented (so a
 * key is limited wherever it is used from). Both apply: the key part of a request is
 * chosen by the caller, so it must never buy a fresh budget for an address. The auth
 * routes have their own, stricter budget. Over a limit: 429 with Retry-After in seconds.
 */
export function installRateLimits(
  app: FastifyInstance,
  options: {
    store: RateLimitStore;
    api: RateLimitRule;
    auth: RateLimitRule;
    now: () => number;
  },
): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/api/')) return;
    const isAuth = request.url.startsWith('/api/v1/auth/');
    const rule = isAuth ? options.auth : options.api;
    const bucket = isAuth ? 'auth' : 'api';
    const keyPrefix = request.headers.authorization?.match(/^Bearer (fbk_[A-Za-z0-9_-]{8})/)?.[1];
    const clients = [`ip:${request.ip}`, ...(keyPrefix !== undefined ? [`key:${keyPrefix}`] : [])];
    const now = options.now();
    const hits = await Promise.all(
      clients.map((client) => options.store.hit(`${bucket}:${client}`, rule.windowMs, now)),
    );
    const worst = hits.reduce((a, b) => (b.count > a.count ? b : a));
    void reply.header('RateLimit-Limit', String(rule.max));
    void reply.header('RateLimit-Remaining', String(Math.max(0, rule.max - worst.count)));
    if (worst.count > rule.max) {
      const retryAfter = Math.max(1, Math.ceil((worst.resetAt - now) / 1000));
      void reply.header('Retry-After', String(retryAfter));
      throw new AppError(
        'RESOURCE_EXHAUSTED',
        `Too many requests; try again in ${retryAfter} seconds.`,
      );
    }
  });
}

/**
 * An answer already written as JSON text (a list page assembled from the rows' JSON as
 * PostgreSQL wrote it, pagination.ts listPageJson): sent as is, with the content type
 * Fastify gives the JSON it serialises, never parsed or serialised again.
 */
export class JsonText {
  constructor(readonly text: string) {}

  static readonly TYPE = 'application/json; charset=utf-8';
}
