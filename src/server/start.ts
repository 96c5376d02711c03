import { join } from 'node:path';
import { appDataDir } from '../engine/paths.js';
import { buildApp } from './app.js';
import { openDestination, redactUrl } from '../engine/storage/index.js';
import { AuditExportJob } from './audit-exporter.js';
import { pruneAudit } from './audit.js';
import { loadConfig } from './config.js';
import { openDb } from './db/db.js';
import { startExpirySweep } from './expiry-sweep.js';
import { missingServerFlags } from './node-flags.js';

/**
 * `firebackup server`: reads the configuration, opens (and migrates) the database and
 * listens until SIGTERM/SIGINT. Resolves when the server has stopped.
 */
export async function startServer(
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const config = loadConfig(env);
  const dataDir = config.DATA_DIR ?? join(appDataDir(env), 'server-db');
  const db = await openDb(
    config.postgres !== undefined
      ? { databaseUrl: config.postgres.connectionString, ssl: config.postgres.ssl }
      : { dataDir },
  );
  const app = await buildApp({ config, db });
  // Audit retention: at start and then daily (the log's own order keeps the chain verifiable).
  // With the export on, retention never removes an entry not yet at the export destination.
  const prune = () =>
    pruneAudit(db, config.AUDIT_LOG_RETENTION_DAYS, new Date(), {
      keepUnexported: config.AUDIT_LOG_EXPORT,
    }).then(
      (n) =>
        n > 0 &&
        log(
          `Audit retention: removed ${n} entries older than ${config.AUDIT_LOG_RETENTION_DAYS} days.`,
        ),
      (error: unknown) => log(`Audit retention failed (will retry): ${(error as Error).message}`),
    );
  await prune();
  const pruning = setInterval(() => void prune(), 86_400_000);
  pruning.unref();
  // Expired keys, sessions, sign-in flows and invitations of everyone, in small batches.
  const sweep = startExpirySweep(db, log);
  const destination = config.AUDIT_LOG_EXPORT_DESTINATION;
  const exporter =
    config.AUDIT_LOG_EXPORT && destination !== undefined
      ? new AuditExportJob(db, () => openDestination(destination), log, {
          intervalMs: config.AUDIT_LOG_EXPORT_INTERVAL,
          label: redactUrl(destination),
        })
      : undefined;
  exporter?.start();
  try {
    const address = await app.listen({ host: config.HOST, port: config.PORT });
    log(
      `FireBackup organisation server listening on ${address} (database: ${
        db.kind === 'pglite' ? `embedded, in ${dataDir}` : 'PostgreSQL'
      }; ${config.REDIS_URL !== undefined ? 'Redis shared state' : 'in-memory state, one instance'}).`,
    );
    const missing = missingServerFlags();
    if (missing.length > 0)
      log(
        `Note: for steady latency under load start the server with NODE_OPTIONS="${missing.join(' ')}" (the Docker image does; docs/server.md).`,
      );
    if (config.google === undefined)
      log(
        'Note: nobody can sign in yet: Google sign-in needs GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET and GOOGLE_CALLBACK_URL (docs/server.md).',
      );
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    log('Stopping: finishing requests in flight.');
  } finally {
    clearInterval(pruning);
    await sweep.stop();
    await exporter?.stop();
    await app.close();
    await db.close();
  }
}
