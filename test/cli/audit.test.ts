import { readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkAudit } from '../../src/server/audit-linker.js';
import { makeCliSandbox } from '../helpers/cli-sandbox.js';
import { runCli } from '../helpers/run-cli.js';
import { signedInSecrets, TeamTestServer } from '../helpers/team-server.js';

/**
 * `firebackup audit verify` and `audit export` against the real organisation server
 * (in-process, listening on a loopback port), signed in as a member of each role: the
 * verdict on an intact chain, on one whose entry was edited in the database behind the
 * server's back (exit 3), the download in both formats, and the refusals (not signed in,
 * a member's role, another server, a file that exists).
 */
const KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
let server: TeamTestServer;
let sandbox: ReturnType<typeof makeCliSandbox>;
let orgId: string;

beforeAll(async () => {
  server = await TeamTestServer.start();
  sandbox = makeCliSandbox('fb-audit-', KEY);
  ({ orgId } = await server.organisation('owner@acme.test', { 'member@acme.test': 'member' }));
});
afterAll(async () => {
  await server?.close();
  if (sandbox) await rm(sandbox.dir, { recursive: true, force: true });
});

const signInAs = async (email: string, org: string | null = orgId) =>
  signedInSecrets(sandbox.env.FIREBACKUP_HOME!, await server.signIn(email, org));

/** Audited writes as the owner: projects (one entry each). */
async function audited(n: number): Promise<void> {
  const owner = await server.app.login('owner@acme.test');
  for (let i = 0; i < n; i++) {
    const res = await server.app.call(owner, 'POST', `/api/v1/organizations/${orgId}/projects`, {
      name: `p${i}`,
      firebaseProjectId: `proj-${i}-abcd`,
    });
    expect(res.statusCode).toBe(201);
  }
}

/** Edits entry `seq` of the organisation's chain as someone with the database would. */
async function tamper(seq: number): Promise<void> {
  await linkAudit(server.db);
  await server.db.system(async (tx) => {
    await tx.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only');
    await tx.query(
      `UPDATE audit_log SET entry = replace(entry, '"info"', '"warn"') WHERE chain = $1 AND seq = $2`,
      [orgId, seq],
    );
    await tx.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only');
  });
}

describe('firebackup audit verify', () => {
  it('not signed in: says to sign in (exit 1)', async () => {
    const run = await runCli(['audit', 'verify'], sandbox.env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /Not signed in to an organisation server.*firebackup login --server/,
    );
  });

  it('an intact chain: exit 0, "intact through entry N", the numbers in --json', async () => {
    await audited(3);
    await signInAs('owner@acme.test');
    const run = await runCli(['audit', 'verify', '--server', server.url], sandbox.env);
    expect(run.code, run.stderr).toBe(0);
    // organization.created + 3 projects.
    expect(run.stdout).toMatch(
      new RegExp(
        `organisation ${orgId} on ${server.url} is intact: .*entry 1 through entry 4 \\(4 checked\\)`,
      ),
    );
    const json = await runCli(['audit', 'verify', '--json'], sandbox.env);
    expect(json.code).toBe(0);
    expect(json.json()).toMatchObject({ ok: true, entries: 4, through: 4, organization: orgId });
  });

  it('an entry edited in the database: exit 3, the first broken entry and why, what is intact', async () => {
    await audited(2);
    await tamper(3);
    const run = await runCli(['audit', 'verify'], sandbox.env);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(
      /TAMPERED WITH: the chain breaks at entry 3: entry 3 was changed after it was written\. Entries 1-2 are intact\./,
    );
    const json = await runCli(['audit', 'verify', '--json'], sandbox.env);
    expect(json.code).toBe(3);
    expect(json.json()).toMatchObject({ ok: false, brokenAt: 3, reason: 'entry edited' });
  });

  it("a member's role may not verify: says who may (exit 1)", async () => {
    await signInAs('member@acme.test');
    const run = await runCli(['audit', 'verify'], sandbox.env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(`Only an owner or admin of organisation ${orgId} may verify its audit log`),
    );
  });

  it('no organisation picked, or --server another than the signed-in one: says what to do (exit 1)', async () => {
    await signInAs('owner@acme.test', null);
    const none = await runCli(['audit', 'verify'], sandbox.env);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/Pick an organisation first/);
    const other = await runCli(
      ['audit', 'verify', '--server', 'https://elsewhere.example.com', '--org', orgId],
      sandbox.env,
    );
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(
      /signed in to http:\/\/127\.0\.0\.1:\d+, not https:\/\/elsewhere\.example\.com; run `firebackup login --server https:\/\/elsewhere\.example\.com`/,
    );
    // --org names it without a pick.
    const picked = await runCli(['audit', 'verify', '--org', orgId], sandbox.env);
    expect(picked.code).toBe(3);
  });
});

describe('firebackup audit export', () => {
  it("writes the log as NDJSON to standard output, oldest first, in the guide's format with seq and hash", async () => {
    await signInAs('owner@acme.test');
    const run = await runCli(['audit', 'export'], sandbox.env);
    expect(run.code, run.stderr).toBe(0);
    const entries = run.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; event: string; organization: string });
    expect(entries.length).toBeGreaterThanOrEqual(6);
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    expect(entries[0]).toMatchObject({ event: 'organization.created', organization: orgId });
    expect(run.stderr).toMatch(
      new RegExp(`${entries.length} audit entries of organisation ${orgId}`),
    );
  });

  it('--format csv --output writes a new owner-only file and never overwrites one; filters pass through', async () => {
    const file = path.join(sandbox.dir, 'audit.csv');
    const run = await runCli(
      ['audit', 'export', '--format', 'csv', '--output', file, '--event', 'project.created'],
      sandbox.env,
    );
    expect(run.code, run.stderr).toBe(0);
    const rows = (await readFile(file, 'utf8')).trimEnd().split('\n');
    expect(rows[0]).toMatch(/^seq,/);
    expect(rows).toHaveLength(1 + 5);
    expect(run.stdout).toMatch(`Wrote 5 audit entries of organisation ${orgId} to ${file} (csv)`);
    expect((await stat(file)).mode & 0o077).toBe(0);
    const again = await runCli(['audit', 'export', '--output', file], sandbox.env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists; choose a new file name/);
    expect((await readFile(file, 'utf8')).trimEnd().split('\n')).toHaveLength(6);
    const bad = await runCli(['audit', 'export', '--format', 'xml'], sandbox.env);
    expect(bad.code).toBe(2);
  });

  it("a member's role may not export (exit 1)", async () => {
    await signInAs('member@acme.test');
    const run = await runCli(['audit', 'export'], sandbox.env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /Only an owner or admin of organisation .* may export its audit log/,
    );
    expect(run.stdout).toBe('');
  });
});
