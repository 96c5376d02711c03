import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';

/**
 * How the server connects to PostgreSQL over TLS: `sslmode` in DATABASE_URL (libpq's
 * names) and the guide's DATABASE_SSL_CA / DATABASE_SSL_CERT / DATABASE_SSL_KEY files.
 * We build the TLS options ourselves rather than let the driver read libpq parameters, so
 * every combination is checked here and a wrong one is refused with a message saying what
 * to set, instead of a connection that is silently less safe than asked for.
 */

export interface DatabaseTlsSettings {
  DATABASE_URL?: string | undefined;
  DATABASE_SSL_CA?: string | undefined;
  DATABASE_SSL_CERT?: string | undefined;
  DATABASE_SSL_KEY?: string | undefined;
}

export interface PostgresConnection {
  /** DATABASE_URL without its TLS parameters (they are in `ssl`). */
  connectionString: string;
  ssl: false | ConnectionOptions;
}

const MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
type Mode = (typeof MODES)[number];

/** Thrown with every problem found, one line each, naming the variable. */
export class DatabaseTlsError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

export function postgresConnection(
  settings: DatabaseTlsSettings & { DATABASE_URL: string },
  read: (file: string) => string = (file) => readFileSync(file, 'utf8'),
): PostgresConnection {
  const problems: string[] = [];
  const url = new URL(settings.DATABASE_URL);
  for (const libpq of ['sslrootcert', 'sslcert', 'sslkey'])
    if (url.searchParams.has(libpq))
      problems.push(
        `DATABASE_URL names ${libpq}; put the file in DATABASE_SSL_${{ sslrootcert: 'CA', sslcert: 'CERT', sslkey: 'KEY' }[libpq]} instead`,
      );
  const given = url.searchParams.get('sslmode');
  const anyFile =
    settings.DATABASE_SSL_CA !== undefined ||
    settings.DATABASE_SSL_CERT !== undefined ||
    settings.DATABASE_SSL_KEY !== undefined;
  // No sslmode: the guide's verify-full when certificates are configured, else none.
  const mode = (given ?? (anyFile ? 'verify-full' : 'disable')) as Mode;
  if (given === 'prefer' || given === 'allow')
    problems.push(
      `DATABASE_URL has sslmode=${given}, which may fall back to an unencrypted connection without saying so; use sslmode=verify-full (or require, or disable)`,
    );
  else if (!MODES.includes(mode))
    problems.push(`DATABASE_URL has sslmode=${given}; use one of ${MODES.join(', ')}`);
  if (mode === 'disable' && anyFile)
    problems.push(
      'DATABASE_SSL_* files are set but DATABASE_URL has sslmode=disable; remove one or the other',
    );
  if ((settings.DATABASE_SSL_CERT === undefined) !== (settings.DATABASE_SSL_KEY === undefined))
    problems.push(
      'DATABASE_SSL_CERT and DATABASE_SSL_KEY go together (a client certificate and its key); set both or neither',
    );
  const file = (name: keyof DatabaseTlsSettings): string | undefined => {
    const path = settings[name];
    if (path === undefined) return undefined;
    try {
      return read(path);
    } catch (error) {
      problems.push(`${name} (${path}) cannot be read: ${(error as Error).message}`);
      return undefined;
    }
  };
  const ca = file('DATABASE_SSL_CA');
  const cert = file('DATABASE_SSL_CERT');
  const key = file('DATABASE_SSL_KEY');
  if (problems.length > 0) throw new DatabaseTlsError(problems);
  for (const p of ['sslmode', 'ssl', 'sslrootcert', 'sslcert', 'sslkey'])
    url.searchParams.delete(p);
  if (mode === 'disable') return { connectionString: url.toString(), ssl: false };
  const files = {
    ...(ca !== undefined ? { ca } : {}),
    ...(cert !== undefined ? { cert } : {}),
    ...(key !== undefined ? { key } : {}),
  };
  // libpq: require checks the chain only when a CA is given; verify-ca never checks the
  // host name; verify-full checks both (Node's default check of the name).
  const verifyChain = mode !== 'require' || ca !== undefined;
  const checkName = mode === 'verify-full';
  return {
    connectionString: url.toString(),
    ssl: {
      ...files,
      rejectUnauthorized: verifyChain,
      ...(checkName ? {} : { checkServerIdentity: () => undefined }),
    },
  };
}
