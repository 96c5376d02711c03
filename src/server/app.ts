import fastifyCookie from '@fastify/cookie';
import Fastify, { type FastifyInstance } from 'fastify';
import { AuditLinker } from './audit-linker.js';
import type { IdentityVerifier, ServerContext } from './auth.js';
import type { ServerConfig } from './config.js';
import type { Db } from './db/db.js';
import { installErrorHandling, installRateLimits } from './http.js';
import { installOpenApi } from './openapi.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerInvitationAcceptRoute } from './routes/invitations.js';
import { registerMfaRoutes } from './routes/mfa.js';
import { registerGoogleRoutes } from './routes/google.js';
import { registerOrgRoutes } from './routes/org.js';
import { memoryState, redisState, type SharedState } from './shared-state.js';
import { Tokens } from './tokens.js';

export interface AppOptions {
  config: ServerConfig;
  db: Db;
  /**
   * The tests' own sign-in (`POST /api/v1/auth/login` with a credential this vouches for);
   * without one that route does not exist. People sign in with Google (GOOGLE_* settings,
   * routes/google.ts).
   */
  identityVerifier?: IdentityVerifier;
  /**
   * Rate limits and revocations; by default Redis when REDIS_URL is set (closed with the
   * app), else memory (one instance).
   */
  shared?: SharedState;
  now?: () => Date;
  logger?: boolean;
  /**
   * Only `npm run bench server` sets this false, to measure what the audit write adds to
   * the request it records (docs/benchmarks.md); `firebackup server` never does.
   */
  auditWrites?: boolean;
}

/** Builds the organisation server (routes, headers, limits) without listening. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const now = options.now ?? (() => new Date());
  const shared =
    options.shared ??
    (options.config.REDIS_URL !== undefined ? redisState(options.config.REDIS_URL) : memoryState());
  const auditLinker = new AuditLinker(options.db, (line) => app.log.warn(line));
  const ctx: ServerContext = {
    config: options.config,
    db: options.db,
    tokens: new Tokens(options.config, now),
    now,
    shared,
    sessionCache: new Map(),
    auditWrites: options.auditWrites ?? true,
    auditLinker,
  };
  // Fastify's types follow the https option into a different instance type; the routes
  // do not care which server carries them.
  const app = Fastify({
    logger: options.logger ?? false,
    trustProxy: options.config.TRUST_PROXY,
    bodyLimit: 1024 * 1024,
    ...(options.config.https !== undefined ? { https: options.config.https } : {}),
  }) as unknown as FastifyInstance;
  if (options.shared === undefined) app.addHook('onClose', () => shared.close());
  // Entries a previous run (or another instance) left unlinked are linked now, then on a timer.
  await auditLinker.start();
  app.addHook('onClose', () => auditLinker.stop());
  installErrorHandling(app);
  // Browser sessions (session-cookies.ts); unsigned, the tokens carry their own signatures.
  await app.register(fastifyCookie);
  if (options.config.RATE_LIMIT_ENABLED)
    installRateLimits(app, {
      store: shared.rateLimits,
      api: { windowMs: options.config.RATE_LIMIT_WINDOW, max: options.config.RATE_LIMIT_MAX },
      auth: {
        windowMs: options.config.AUTH_RATE_LIMIT_WINDOW,
        max: options.config.AUTH_RATE_LIMIT_MAX,
      },
      now: () => now().getTime(),
    });
  installOpenApi(app);
  app.get(
    '/healthz',
    { config: { doc: { summary: 'Alive (liveness probe).', auth: 'none', success: 200 } } },
    async () => ({ status: 'ok' }),
  );
  const ready = {
    summary: 'Database (and Redis) answer (readiness probe).',
    auth: 'none',
  } as const;
  app.get('/readyz', { config: { doc: { ...ready, success: 200 } } }, async (_request, reply) => {
    // Redis is reported only when configured, so a single instance's answer stays as it was.
    const state = shared.kind === 'redis' ? { redis: 'ok' } : {};
    try {
      await options.db.system((tx) => tx.queryAndCommit('SELECT 1'));
    } catch {
      return reply.status(503).send({ status: 'not ready', database: options.db.kind });
    }
    try {
      await shared.ping();
    } catch {
      return reply
        .status(503)
        .send({ status: 'not ready', database: options.db.kind, redis: 'unreachable' });
    }
    return { status: 'ready', database: options.db.kind, ...state };
  });
  registerAuthRoutes(app, ctx, options.identityVerifier);
  registerMfaRoutes(app, ctx);
  registerGoogleRoutes(app, ctx);
  registerOrgRoutes(app, ctx);
  registerInvitationAcceptRoute(app, ctx);
  return app;
}
