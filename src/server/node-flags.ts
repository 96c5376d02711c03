/**
 * The Node.js flags the organisation server is deployed with (deploy/Dockerfile's CMD;
 * the server bench starts its server the same way).
 *
 * `--max-semi-space-size=64` (MB; Node 20's default is 16): a list answer of 200 rows
 * allocates ~1 MB of short-lived rows and JSON, so at 500 requests/s the default young
 * generation was scavenged several times a second and pushed p99 of the largest page to
 * 31–39 ms. With 64 MB, on PostgreSQL 15 on two cores, alternated in one hour: GC per
 * request 0.155 → 0.017 ms, server CPU per request 1.25 → 0.91 ms, p99 of the 200-row
 * page 21–23 ms (docs/benchmarks.md). It costs at most ~150 MB more young generation,
 * inside the Kubernetes manifest's 512 Mi limit. V8 reads it only at start-up (setting it
 * from inside the process was measured to change nothing), hence a flag.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];

/** The server flags this process was not started with (as arguments or NODE_OPTIONS). */
export function missingServerFlags(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env['NODE_OPTIONS'] ?? '',
): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)]);
  return SERVER_NODE_FLAGS.filter((flag) => !given.has(flag));
}
