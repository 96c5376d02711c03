import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/server/db/db.js';
import {
  EXPIRING,
  INVITATION_KEPT_MS,
  startExpirySweep,
  sweepExpired,
} from '../../src/server/expiry-sweep.js';
import { sha256 } from '../../src/server/ids.js';
import {
  BACKENDS,
  openTestDb,
  POSTGRES_MISSING,
  startTestServer,
  unavailable,
  type Backend,
} from './harness.js';

/**
 * Expired rows are deleted for every user and organisation, not only when the same one
 * comes back (issue #9): Idempotency-Key answers (organisations' and users'), sessions and
 * their refresh tokens, sign-in flows and codes, invitations. Made through the real routes
 * by a server whose clock is 8 days back, then swept with today's clock.
 */

const DAY = 86_400_000;
const TABLES = EXPIRING.map((e) => e.table);

async function counts(db: Db): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of TABLES)
    out[table] = Number(
      (await db.system((tx) => tx.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)))[0]!
        .n,
    );
  return out;
}

/**
 * What a user leaves behind at `now` and never comes back for: a session (with a rotated
 * refresh token), an organisation created with an Idempotency-Key, a keyed write in it, an
 * invitation, a sign-in flow never finished and a sign-in code.
 */
async function leaveRows(db: Db, now: Date, who: string): Promise<void> {
  const server = await startTestServer({}, { now: () => now }, db);
  try {
    const user = await server.login(`${who}@sweep.test`);
    const refreshed = await server.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: user.refreshToken },
    });
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    const created = await server.call(
      user,
      'POST',
      '/api/v1/organizations',
      { name: who },
      { 'idempotency-key': randomUUID() },
    );
    expect(created.statusCode, created.body).toBe(201);
    const org = created.json<{ id: string }>().id;
    const wrote = await server.call(
      user,
      'POST',
      `/api/v1/organizations/${org}/projects`,
      { name: 'Main', firebaseProjectId: `${who}-main` },
      { 'idempotency-key': randomUUID() },
    );
    expect(wrote.statusCode, wrote.body).toBe(201);
    const invited = await server.call(user, 'POST', `/api/v1/organizations/${org}/invitations`, {
      email: `guest-${who}@sweep.test`,
      role: 'viewer',
    });
    expect(invited.statusCode, invited.body).toBe(201);
    await db.system(async (tx) => {
      await tx.query(
        `INSERT INTO oauth_states (state_hash, nonce, code_verifier, client_redirect_uri,
           client_challenge, client_state, created_at, expires_at)
         VALUES ($1, 'n', 'v', 'http://127.0.0.1:1/cb', 'c', 's', $2, $3)`,
        [sha256(`state-${who}`), now, new Date(now.getTime() + 600_000)],
      );
      await tx.query(
        `INSERT INTO oauth_codes (code_hash, user_id, client_redirect_uri, client_challenge,
           created_at, expires_at)
         VALUES ($1, $2, 'http://127.0.0.1:1/cb', 'c', $3, $4)`,
        [sha256(`code-${who}`), user.userId, now, new Date(now.getTime() + 60_000)],
      );
    });
  } finally {
    await server.close();
  }
}

function suite(backend: Backend): void {
  let db: Db;
  const now = new Date();

  beforeAll(async () => {
    db = await openTestDb(backend);
  });
  afterAll(() => db?.close());

  it('removes what expired for every user and organisation, keeps what has not, and keeps an expired invitation a while', async () => {
    await leaveRows(db, new Date(now.getTime() - 8 * DAY), 'gone');
    const before = await counts(db);
    await leaveRows(db, now, 'here');
    const fresh = Object.fromEntries(
      Object.entries(await counts(db)).map(([t, n]) => [t, n - before[t]!]),
    );
    // Every table had rows of the user who never came back (the control).
    for (const table of TABLES) expect(before[table], table).toBeGreaterThan(0);

    const removed = await sweepExpired(db, now);
    expect(removed).toEqual({
      oauth_states: before.oauth_states,
      // A spent code is remembered a day after its expiry (a replay still ends its session)…
      oauth_codes: before.oauth_codes,
      refresh_tokens: before.refresh_tokens,
      sessions: before.sessions,
      // …and an expired invitation 30 days, so its link still says "has expired".
      invitations: 0,
      idempotency_keys: before.idempotency_keys,
      user_idempotency_keys: before.user_idempotency_keys,
    });
    expect(await counts(db)).toEqual({ ...fresh, invitations: fresh.invitations! + 1 });

    // A month later the invitation goes too, and what is fresh today is then old as well.
    const later = await sweepExpired(db, new Date(now.getTime() + 8 * DAY + INVITATION_KEPT_MS));
    expect(later.invitations).toBe(fresh.invitations! + 1);
    expect(Object.values(await counts(db))).toEqual(TABLES.map(() => 0));
  });

  it('works in bounded batches: a sweep removes at most batch × maxBatches rows per table, the next goes on', async () => {
    const past = new Date(now.getTime() - 8 * DAY);
    for (const who of ['a', 'b', 'c', 'd', 'e']) await leaveRows(db, past, `batch-${who}`);
    const first = await sweepExpired(db, now, { batch: 2, maxBatches: 1 });
    expect(first.user_idempotency_keys).toBe(2);
    expect(first.sessions).toBe(2);
    expect((await counts(db)).user_idempotency_keys).toBe(3);
    const second = await sweepExpired(db, now, { batch: 2, maxBatches: 2 });
    expect(second.user_idempotency_keys).toBe(3);
    expect((await sweepExpired(db, now, { batch: 2, maxBatches: 1 })).user_idempotency_keys).toBe(
      0,
    );
  });

  it('a session named by a remembered sign-in code stays until the code goes', async () => {
    const past = new Date(now.getTime() - 8 * DAY);
    await leaveRows(db, past, 'coded');
    const session = await db.system(async (tx) => {
      const [row] = await tx.query<{ id: string }>(
        `SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = 'coded@sweep.test'`,
      );
      // The code was spent (it started this session) and expired just now.
      await tx.query(
        'UPDATE oauth_codes SET session_id = $1, used_at = $2, expires_at = $2 WHERE code_hash = $3',
        [row!.id, now, sha256('code-coded')],
      );
      return row!.id;
    });
    await sweepExpired(db, now);
    const left = async () =>
      db.system((tx) => tx.query('SELECT 1 FROM sessions WHERE id = $1', [session]));
    expect(await left()).toHaveLength(1);
    await sweepExpired(db, new Date(now.getTime() + 2 * DAY));
    expect(await left()).toHaveLength(0);
  });

  it('runs on a timer per instance, at start and then every interval', async () => {
    await sweepExpired(db, new Date(now.getTime() + 60 * DAY));
    // Keys made 3 days ago: kept at the first sweep; expired once the clock moves 5 days on.
    await leaveRows(db, new Date(now.getTime() - 3 * DAY), 'timer');
    const lines: string[] = [];
    const clock = { now: now.getTime() };
    const sweep = startExpirySweep(db, (l) => lines.push(l), {
      intervalMs: 50,
      now: () => new Date(clock.now),
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await counts(db)).user_idempotency_keys).toBe(1);
      clock.now += 5 * DAY;
      await expect
        .poll(async () => (await counts(db)).user_idempotency_keys, { timeout: 10_000 })
        .toBe(0);
      expect(lines.join('\n')).toMatch(/Expired rows removed: .*user_idempotency_keys 1/);
    } finally {
      await sweep.stop();
    }
  });
}

for (const backend of BACKENDS)
  describe.skipIf(unavailable(backend))(
    `expired rows swept on ${backend}${unavailable(backend) ? ` (${POSTGRES_MISSING})` : ''}`,
    () => suite(backend),
  );
