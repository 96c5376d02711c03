import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BackupFacts } from '../../src/engine/catalog/backups.js';
import { Catalog } from '../../src/engine/catalog/catalog.js';
import Database from 'better-sqlite3';
import { migrate, openDb } from '../../src/engine/catalog/db.js';
import { MIGRATIONS } from '../../src/engine/catalog/migrations/index.js';
import { rebuildCatalog } from '../../src/engine/catalog/rebuild.js';
import { ManualClock } from '../../src/engine/clock.js';
import { appDataDir } from '../../src/engine/paths.js';
import { AppError } from '../../src/shared/errors.js';

let dir: string;
let clock: ManualClock;
let catalog: Catalog;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'fb-catalog-'));
  clock = new ManualClock('2024-03-01T12:00:00Z');
  catalog = Catalog.open(path.join(dir, 'catalog.sqlite'), clock);
});
afterEach(() => {
  catalog.close();
  rmSync(dir, { recursive: true, force: true });
});

const fact = (destinationId: string, id: string, createdAt: string): BackupFacts => ({
  destinationId,
  id,
  firebaseProjectId: 'demo',
  createdAt,
  archiveKey: `${id}.fbk`,
  manifestKey: `${id}.fbm`,
  counts: { 'firestore.documents': 3 },
  bytes: 100,
});

describe('catalog', () => {
  it('migrates a new file to the latest version and reopens it without re-running', () => {
    const file = path.join(dir, 'catalog.sqlite');
    const db = openDb(file);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.at(-1)!.version);
    db.close();
  });

  it('migration 2 keeps the backups of a version-1 catalog, with their scope unknown', () => {
    const db = new Database(path.join(dir, 'v1.sqlite'));
    db.exec(MIGRATIONS[0]!.sql);
    db.pragma('user_version = 1');
    db.prepare(
      "INSERT INTO backups (destination_id, id, firebase_project_id, created_at, archive_key) VALUES ('d', 'bkp_1', 'demo', '2024-01-01T00:00:00Z', 'bkp_1.fbk')",
    ).run();
    migrate(db);
    const backups = new Catalog(db, clock).backups.list();
    expect(backups).toMatchObject([
      {
        id: 'bkp_1',
        firebaseProjectId: 'demo',
        databaseId: null,
        scheduleId: null,
        selection: null,
      },
    ]);
    db.close();
  });

  it('creates its data folder owner-only (0700) and the catalog file 0600; an existing folder keeps its mode', () => {
    // The catalog names projects, destinations and credentials files: not for other users.
    const mode = (p: string): number => statSync(p).mode & 0o777;
    const fresh = path.join(dir, 'home', 'firebackup');
    const db = openDb(path.join(fresh, 'catalog.sqlite'));
    expect(mode(path.join(dir, 'home'))).toBe(0o700);
    expect(mode(fresh)).toBe(0o700);
    expect(mode(path.join(fresh, 'catalog.sqlite'))).toBe(0o600);
    // SQLite's write-ahead log (there while the catalog is open) follows the file's mode.
    expect(mode(path.join(fresh, 'catalog.sqlite-wal'))).toBe(0o600);
    db.close();
    const shared = path.join(dir, 'shared');
    mkdirSync(shared, { mode: 0o755 });
    openDb(path.join(shared, 'catalog.sqlite')).close();
    expect(mode(shared)).toBe(0o755);
    expect(mode(path.join(shared, 'catalog.sqlite'))).toBe(0o600);
  });

  it('refuses a catalog from a newer FireBackup with a message that says what to do', () => {
    catalog.db.pragma('user_version = 99');
    catalog.close();
    expect(() => openDb(path.join(dir, 'catalog.sqlite'))).toThrow(
      /newer FireBackup.*Update FireBackup/,
    );
    catalog = Catalog.open(path.join(dir, 'other.sqlite'), clock);
  });

  it('stores credentials file paths but never credentials', () => {
    const p = catalog.projects.upsert({
      name: 'demo',
      firebaseProjectId: 'demo',
      credentialsPath: '/keys/sa.json',
    });
    expect(p.credentialsPath).toBe('/keys/sa.json');
    expect(() =>
      catalog.projects.upsert({
        name: 'leaky',
        firebaseProjectId: 'demo',
        credentialsPath: '{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----"}',
      }),
    ).toThrow(/path of the service-account JSON file/);
    expect(() =>
      catalog.destinations.upsert({
        name: 's3',
        url: 's3://bucket',
        options: { secretAccessKey: 'x' },
      }),
    ).toThrow(/looks like a secret/);
  });

  it('upserts projects and destinations by name/url instead of duplicating them', () => {
    const a = catalog.projects.upsert({ name: 'demo', firebaseProjectId: 'demo' });
    const b = catalog.projects.upsert({
      name: 'demo',
      firebaseProjectId: 'demo',
      emulatorHost: '127.0.0.1:8080',
    });
    expect(b.id).toBe(a.id);
    expect(b.emulatorHost).toBe('127.0.0.1:8080');
    const d1 = catalog.destinations.upsert({ name: 'local', url: '/tmp/x' });
    const d2 = catalog.destinations.upsert({ name: 'other-name', url: '/tmp/x' });
    expect(d2.id).toBe(d1.id);
    expect(catalog.destinations.list()).toHaveLength(1);
  });

  it('records schedules with their config and rejects duplicates by name', () => {
    const p = catalog.projects.upsert({ name: 'demo', firebaseProjectId: 'demo' });
    const d = catalog.destinations.upsert({ name: 'local', url: '/tmp/x' });
    const s = catalog.schedules.add({
      name: 'nightly',
      projectId: p.id,
      destinationId: d.id,
      cron: '0 2 * * *',
      timeZone: 'Europe/Paris',
      retention: { keepLast: 7 },
    });
    expect(catalog.schedules.get('nightly')).toMatchObject({
      id: s.id,
      kind: 'backup',
      retention: { keepLast: 7 },
      verifyAfter: { mode: 'full' },
      lastScheduledFor: '2024-03-01T12:00:00.000Z',
    });
    expect(() =>
      catalog.schedules.add({
        name: 'nightly',
        projectId: p.id,
        destinationId: d.id,
        cron: '0 3 * * *',
      }),
    ).toThrow(AppError);
    expect(() =>
      catalog.schedules.add({
        name: 'bad-tz',
        projectId: p.id,
        destinationId: d.id,
        cron: '0 3 * * *',
        timeZone: 'Mars/Olympus',
      }),
    ).toThrow(/IANA time zone/);
  });

  it('records runs and lists them newest first with filters', () => {
    const r1 = catalog.runs.create({ kind: 'backup', trigger: 'manual', projectId: 'p1' });
    clock.set('2024-03-01T13:00:00Z');
    const r2 = catalog.runs.create({ kind: 'verify', trigger: 'schedule', projectId: 'p1' });
    catalog.runs.update(r1.id, {
      status: 'succeeded',
      finishedAt: clock.now(),
      counts: { 'firestore.documents': 5 },
      bytes: 42,
    });
    expect(catalog.runs.list().map((r) => r.id)).toEqual([r2.id, r1.id]);
    expect(catalog.runs.list({ kind: 'backup' })[0]).toMatchObject({
      status: 'succeeded',
      counts: { 'firestore.documents': 5 },
      bytes: 42,
    });
  });

  it('marks runs abandoned by a dead process as failed', () => {
    const r = catalog.runs.create({ kind: 'backup', trigger: 'manual', status: 'running' });
    const n = catalog.runs.failAbandoned(() => false, {
      code: 'ABORTED',
      message: 'process died',
      fault: 'system',
      retryable: true,
    });
    expect(n).toBe(1);
    expect(catalog.runs.get(r.id)?.status).toBe('failed');
    // A live owner keeps its run.
    const live = catalog.runs.create({ kind: 'backup', trigger: 'manual', status: 'running' });
    catalog.runs.failAbandoned(() => true, {
      code: 'ABORTED',
      message: 'x',
      fault: 'system',
      retryable: true,
    });
    expect(catalog.runs.get(live.id)?.status).toBe('running');
  });

  it('orders verification candidates: never verified first, then least recently verified', () => {
    const d = catalog.destinations.upsert({ name: 'local', url: '/tmp/x' }).id;
    for (const [id, t] of [
      ['a', '2024-01-01'],
      ['b', '2024-01-02'],
      ['c', '2024-01-03'],
    ] as const) {
      catalog.backups.upsert(fact(d, id, `${t}T00:00:00.000Z`));
    }
    catalog.backups.recordVerification(d, 'a', true);
    clock.set('2024-03-02T00:00:00Z');
    catalog.backups.recordVerification(d, 'c', false, 'segment 3 failed authentication');
    expect(catalog.backups.leastRecentlyVerified(d, null, 3).map((b) => b.id)).toEqual([
      'b',
      'a',
      'c',
    ]);
    expect(catalog.backups.get(d, 'c')).toMatchObject({
      verifyStatus: 'failed',
      verifyError: 'segment 3 failed authentication',
    });
  });

  it('rebuild makes the rows equal what storage lists, keeps verification, and spares unreadable destinations', async () => {
    const ok = catalog.destinations.upsert({ name: 'local', url: '/tmp/ok' }).id;
    const down = catalog.destinations.upsert({ name: 'remote', url: 's3://down' }).id;
    catalog.backups.upsert(fact(ok, 'gone', '2024-01-01T00:00:00.000Z'));
    catalog.backups.upsert(fact(ok, 'kept', '2024-01-02T00:00:00.000Z'));
    catalog.backups.recordVerification(ok, 'kept', true);
    catalog.backups.upsert(fact(down, 'remote-1', '2024-01-02T00:00:00.000Z'));

    const report = await rebuildCatalog(catalog, async (dest) => {
      if (dest.id === down) throw new AppError('UNAVAILABLE', 'bucket unreachable');
      return [
        fact(ok, 'kept', '2024-01-02T00:00:00.000Z'),
        fact(ok, 'new', '2024-01-03T00:00:00.000Z'),
      ];
    });

    expect(catalog.backups.list({ destinationId: ok }).map((b) => b.id)).toEqual(['new', 'kept']);
    expect(catalog.backups.get(ok, 'kept')?.verifyStatus).toBe('ok');
    expect(catalog.backups.list({ destinationId: down }).map((b) => b.id)).toEqual(['remote-1']);
    expect(report.destinations.find((d) => d.id === ok)).toMatchObject({
      added: 1,
      removed: 1,
      backups: 2,
    });
    expect(report.destinations.find((d) => d.id === down)?.error?.code).toBe('UNAVAILABLE');
  });

  it('records deletions', () => {
    const d = catalog.destinations.upsert({ name: 'local', url: '/tmp/x' }).id;
    catalog.backups.upsert(fact(d, 'old', '2024-01-01T00:00:00.000Z'));
    catalog.backups.recordDeletion(d, 'old', 'retention', 'run_1');
    expect(catalog.backups.list()).toEqual([]);
    expect(catalog.backups.deletions()).toMatchObject([
      { backupId: 'old', reason: 'retention', runId: 'run_1' },
    ]);
  });
});

describe('appDataDir', () => {
  it('follows FIREBACKUP_HOME, then the platform convention', () => {
    expect(appDataDir({ FIREBACKUP_HOME: '/data/fb' }, 'linux', '/home/u')).toBe('/data/fb');
    expect(appDataDir({}, 'linux', '/home/u')).toBe('/home/u/.local/share/firebackup');
    expect(appDataDir({ XDG_DATA_HOME: '/xdg' }, 'linux', '/home/u')).toBe('/xdg/firebackup');
    expect(appDataDir({}, 'darwin', '/Users/u')).toBe(
      '/Users/u/Library/Application Support/FireBackup',
    );
    expect(
      appDataDir({ APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'win32', 'C:\\Users\\u'),
    ).toContain('FireBackup');
  });
});
