import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/server/db/db.js';
import { isoTime, isoTimes } from '../../src/server/pagination.js';
import { BACKENDS, openTestDb, POSTGRES_MISSING, unavailable, type Backend } from './harness.js';

/**
 * List answers carry their times as PostgreSQL writes them (isoTime), not as Dates the
 * server parses and serialises back: the text must be exactly what JSON made of the Date
 * (UTC, milliseconds truncated), whatever the session's time zone.
 */
function suite(backend: Backend) {
  let db: Db;
  beforeAll(async () => {
    db = await openTestDb(backend);
  });
  afterAll(() => db.close());

  it('isoTime gives the text JSON.stringify gives the same timestamp read as a Date', async () => {
    const times = [
      '2026-11-30 11:04:17.123987+00',
      '2026-11-30 23:59:59.999999-05',
      '2024-02-29 00:00:00+02',
      '1999-12-31 23:59:59.5+00',
    ];
    for (const zone of ['UTC', 'America/New_York', 'Asia/Kolkata']) {
      const rows = await db.system(async (tx) => {
        await tx.query(`SELECT set_config('TimeZone', $1, true)`, [zone]);
        return tx.query<{ iso: string; at: Date }>(
          `SELECT ${isoTime('t', 'iso')}, t AS at FROM unnest($1::timestamptz[]) AS t`,
          [times],
        );
      });
      expect(rows).toHaveLength(times.length);
      for (const row of rows) expect(JSON.stringify(row.iso)).toBe(JSON.stringify(row.at));
    }
    const [empty] = await db.system((tx) =>
      tx.query<{ iso: string | null }>(`SELECT ${isoTime('NULL::timestamptz', 'iso')}`),
    );
    expect(empty!.iso).toBeNull();
  });
}

describe('isoTimes', () => {
  it('reads the named columns of a shared select list by isoTime, and refuses one it lacks', () => {
    const select = 'id, started_at AS "startedAt", created_at AS "createdAt"';
    expect(isoTimes(select, ['started_at', 'created_at'])).toBe(
      `id, ${isoTime('started_at', 'startedAt')}, ${isoTime('created_at', 'createdAt')}`,
    );
    expect(() => isoTimes(select, ['finished_at'])).toThrow(/finished_at/);
  });
});

describe.each(BACKENDS)('list answer times on %s', (backend) => {
  if (unavailable(backend)) it.skip(POSTGRES_MISSING, () => undefined);
  else suite(backend);
});
