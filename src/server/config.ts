import { z } from 'zod';
import { AppError } from '../shared/errors.js';
import { DatabaseTlsError, postgresConnection, type PostgresConnection } from './db/ssl.js';
import { GOOGLE_ISSUER, googleSignIn, type GoogleSignIn } from './oauth-config.js';
import { serverTls, type HttpsOptions } from './tls.js';

/**
 * The organisation server's configuration, read from the environment with the names the
 * product's security guide uses (docs/server.md lists them). Anything wrong refuses to
 * start with a message naming the variable and what to set, never a stack trace.
 */

const DURATION = /^(\d+)\s*(ms|s|m|h|d)?$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** "24h", "7d", "15m", "30s", "500ms"; a bare number is seconds (as JWT libraries read it). */
export function parseDuration(value: string): number | undefined {
  const match = DURATION.exec(value.trim());
  if (!match) return undefined;
  const unit = (match[2] ?? 's') as keyof typeof UNIT_MS;
  return Number(match[1]) * UNIT_MS[unit];
}

const duration = (example: string) =>
  z.string().transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined || ms <= 0) {
      ctx.addIssue({ code: 'custom', message: `a duration such as ${example} (got "${value}")` });
      return z.NEVER;
    }
    return ms;
  });

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], {
    errorMap: () => ({ message: 'true or false' }),
  })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Milliseconds, as the guide writes RATE_LIMIT_WINDOW=60000 and SESSION_TIMEOUT=1800000. */
const millis = z.coerce
  .number({ invalid_type_error: 'a number of milliseconds' })
  .int('a whole number of milliseconds')
  .positive('a positive number of milliseconds');
const count = z.coerce.number().int('a whole number').positive('a positive whole number');

const schema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  JWT_SECRET: z
    .string({
      required_error:
        'is not set. Generate one with `openssl rand -hex 32` and set JWT_SECRET to it',
    })
    .refine((s) => Buffer.byteLength(s, 'utf8') >= 32, {
      message:
        'is shorter than 32 bytes. Generate a strong one with `openssl rand -hex 32` and set JWT_SECRET to it',
    }),
  JWT_EXPIRES_IN: duration('24h').default('24h'),
  JWT_REFRESH_EXPIRES_IN: duration('7d').default('7d'),
  JWT_ISSUER: z.string().min(1).default('firebackup'),
  JWT_AUDIENCE: z.string().min(1).default('firebackup-api'),
  DATABASE_URL: z
    .string()
    .regex(
      /^postgres(ql)?:\/\//,
      'a postgresql:// URL (or leave it unset for the embedded database)',
    )
    .optional(),
  /** Files for TLS to PostgreSQL (see db/ssl.ts for how sslmode combines with them). */
  DATABASE_SSL_CA: z.string().min(1).optional(),
  DATABASE_SSL_CERT: z.string().min(1).optional(),
  DATABASE_SSL_KEY: z.string().min(1).optional(),
  /** TLS terminated by the server itself (PEM files); unset: plain HTTP behind a proxy. */
  TLS_CERT_FILE: z.string().min(1).optional(),
  TLS_KEY_FILE: z.string().min(1).optional(),
  DATA_DIR: z.string().min(1).optional(),
  /** Shared rate limits and revocations across instances; unset: in memory (one instance). */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL (or leave it unset for one instance)')
    .optional(),
  RATE_LIMIT_ENABLED: bool.default('true'),
  RATE_LIMIT_WINDOW: millis.default(60_000),
  RATE_LIMIT_MAX: count.default(100),
  AUTH_RATE_LIMIT_WINDOW: millis.default(60_000),
  AUTH_RATE_LIMIT_MAX: count.default(5),
  /** Idle timeout of a session in milliseconds; unset means only the refresh expiry applies. */
  SESSION_TIMEOUT: millis.optional(),
  /**
   * Browser sessions (session-cookies.ts): the guide's four settings and defaults, plus the
   * cookie's name and domain, which the guide leaves to the deployment.
   */
  SESSION_SECURE: bool.default('true'),
  SESSION_HTTP_ONLY: bool.default('true'),
  SESSION_SAME_SITE: z
    .enum(['strict', 'lax', 'none'], { errorMap: () => ({ message: 'strict, lax or none' }) })
    .default('strict'),
  SESSION_MAX_AGE: millis.default(86_400_000),
  SESSION_COOKIE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only (a cookie name)')
    .default('firebackup_session'),
  SESSION_DOMAIN: z.string().min(1).optional(),
  /** Every session must pass a second factor (TOTP) before it can call anything else. */
  FORCE_MFA: bool.default('false'),
  /**
   * Key of the TOTP secrets' encryption at rest (at least 32 bytes); unset: derived from
   * JWT_SECRET, so rotating JWT_SECRET then means enrolling again.
   */
  MFA_ENCRYPTION_KEY: z
    .string()
    .refine((s) => Buffer.byteLength(s, 'utf8') >= 32, {
      message: 'is shorter than 32 bytes. Generate one with `openssl rand -hex 32`',
    })
    .optional(),
  /** How long an invitation link works. */
  INVITATION_EXPIRES_IN: duration('7d').default('7d'),
  AUDIT_LOG_RETENTION_DAYS: count.default(365),
  /** Ship linked audit entries to AUDIT_LOG_EXPORT_DESTINATION in batches, exactly once. */
  AUDIT_LOG_EXPORT: bool.default('false'),
  /** Any FireBackup destination URL: a folder, s3://bucket/prefix, gs://bucket/prefix. */
  AUDIT_LOG_EXPORT_DESTINATION: z.string().min(1).optional(),
  /** How often the export looks for new entries (and retries a failed batch), in ms. */
  AUDIT_LOG_EXPORT_INTERVAL: millis.default(60_000),
  /** Behind a reverse proxy (the guide's nginx) the client address is in X-Forwarded-For. */
  TRUST_PROXY: bool.default('false'),
  /** Google sign-in (oauth-config.ts checks them together); unset: no sign-in routes. */
  GOOGLE_CLIENT_ID: z.string().min(1).optional(),
  GOOGLE_CLIENT_SECRET: z.string().min(1).optional(),
  GOOGLE_CALLBACK_URL: z.string().min(1).optional(),
  OAUTH_SCOPES: z.string().min(1).default('openid email profile'),
  /** Google's by default; tests point it at a local OpenID provider. */
  OAUTH_ISSUER: z.string().min(1).default(GOOGLE_ISSUER),
});

/** Every environment variable the server reads (deployment files are checked against it). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(schema.shape);

export type ServerConfig = z.infer<typeof schema> & {
  /** DATABASE_URL and its TLS options, checked and read (files included) at start-up. */
  postgres?: PostgresConnection;
  /** Set when the server terminates TLS itself. */
  https?: HttpsOptions;
  /** Set when Google sign-in is configured. */
  google?: GoogleSignIn;
};

/** Reads and checks the configuration; throws INVALID_ARGUMENT naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv): ServerConfig {
  // Empty variables count as unset, as shells and .env files often leave them.
  const present = Object.fromEntries(
    Object.entries(env).filter(([key, value]) => key in schema.shape && value !== ''),
  );
  const parsed = schema.safeParse(present);
  if (parsed.success) {
    const config: ServerConfig = parsed.data;
    const problems: string[] = [];
    if (config.DATABASE_URL !== undefined) {
      try {
        config.postgres = postgresConnection({ ...config, DATABASE_URL: config.DATABASE_URL });
      } catch (error) {
        if (!(error instanceof DatabaseTlsError)) throw error;
        problems.push(...error.problems);
      }
    } else if (config.DATABASE_SSL_CA ?? config.DATABASE_SSL_CERT ?? config.DATABASE_SSL_KEY)
      problems.push(
        'DATABASE_SSL_* files are set without DATABASE_URL; they apply to PostgreSQL only (the embedded database has no connection)',
      );
    // Browsers drop SameSite=None cookies that are not Secure.
    if (config.SESSION_SAME_SITE === 'none' && !config.SESSION_SECURE)
      problems.push(
        'SESSION_SAME_SITE=none needs SESSION_SECURE=true (browsers refuse it otherwise)',
      );
    if (config.AUDIT_LOG_EXPORT && config.AUDIT_LOG_EXPORT_DESTINATION === undefined)
      problems.push(
        'AUDIT_LOG_EXPORT_DESTINATION is not set but AUDIT_LOG_EXPORT=true; set it to a folder, s3://bucket/prefix or gs://bucket/prefix (credentials come from the usual environment variables)',
      );
    const tls = serverTls(config);
    problems.push(...tls.problems);
    if (tls.https !== undefined) config.https = tls.https;
    const google = googleSignIn(config);
    problems.push(...google.problems);
    if (google.google !== undefined) config.google = google.google;
    if (problems.length === 0) return config;
    throw invalid(problems.map((p) => `  ${p}`));
  }
  const lines = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? 'configuration');
    const message = issue.message.startsWith('is ') ? issue.message : `must be ${issue.message}`;
    return `  ${name} ${message}`;
  });
  throw invalid(lines);
}

function invalid(lines: string[]): AppError {
  return new AppError(
    'INVALID_ARGUMENT',
    `The server cannot start; fix these environment variables:\n${lines.join('\n')}`,
  );
}
