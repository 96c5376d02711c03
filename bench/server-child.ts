/**
 * The organisation server for `npm run bench server`, in its own process so the load
 * generator does not share its event loop. Two instances of the app on one database: one
 * as `firebackup server` runs it, one without audit writes (to measure what they add).
 * Prints one JSON line with the addresses and a seeded session, then serves until killed.
 */
import { buildApp } from '../src/server/app.js';
import { loadConfig } from '../src/server/config.js';
import { openDb } from '../src/server/db/db.js';

const databaseUrl = process.env.BENCH_DATABASE_URL;
const db = await openDb(databaseUrl ? { databaseUrl } : {});
const config = loadConfig({
  JWT_SECRET: 'b'.repeat(64),
  // Limits on, as in production, with a budget the load never reaches.
  RATE_LIMIT_ENABLED: 'true',
  RATE_LIMIT_MAX: '1000000000',
});
const verifier = async (credential: string) => ({ email: credential });
const audited = await buildApp({ config, db, identityVerifier: verifier });
const unaudited = await buildApp({ config, db, identityVerifier: verifier, auditWrites: false });
const [url, urlNoAudit] = await Promise.all(
  [audited, unaudited].map((app) => app.listen({ host: '127.0.0.1', port: 0 })),
);

const json = async (res: Response) => {
  if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, string>;
};
const login = await json(
  await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ credential: 'bench@acme.test' }),
  }),
);
const auth = { authorization: `Bearer ${login.accessToken}`, 'content-type': 'application/json' };
const post = async (path: string, body: object) =>
  json(await fetch(`${url}${path}`, { method: 'POST', headers: auth, body: JSON.stringify(body) }));
const org = await post('/api/v1/organizations', { name: 'Bench' });
const base = `/api/v1/organizations/${org.id}`;
const project = await post(`${base}/projects`, { name: 'Main', firebaseProjectId: 'bench-main' });
for (let i = 0; i < 20; i++)
  await post(`${base}/projects`, { name: `P${i}`, firebaseProjectId: `bench-p${i}` });
for (let i = 0; i < 200; i++)
  await post(`${base}/backups`, { projectId: project.id, sizeBytes: 1000 + i, documentCount: i });
// The run history (issue #9's shared catalog): 100 finished runs reported by the app.
for (let i = 0; i < 100; i++)
  await post(`${base}/runs`, {
    projectId: project.id,
    status: 'finished',
    documentCount: i,
    bytes: 1000 + i,
    backupId: `bkp_bench_${i}`,
  });

console.log(
  JSON.stringify({
    url,
    urlNoAudit,
    token: login.accessToken,
    base,
    projectId: project.id,
    database: db.kind,
  }),
);
process.on('SIGTERM', () => {
  void Promise.all([audited.close(), unaudited.close()])
    .then(() => db.close())
    .then(() => process.exit(0));
});
