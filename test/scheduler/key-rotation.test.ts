import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Catalog } from '../../src/engine/catalog/catalog.js';
import { ManualClock } from '../../src/engine/clock.js';
import { JobManager } from '../../src/engine/jobs/job-manager.js';
import type { EngineOps } from '../../src/engine/jobs/types.js';
import { KeyStore } from '../../src/engine/keys/key-store.js';
import type { Keyring } from '../../src/engine/keys/keyring.js';
import { KeyRotator, rotationSettingsFromEnv } from '../../src/engine/keys/rotation.js';
import { MemoryNotifier } from '../../src/engine/notify/notifier.js';
import { LockManager } from '../../src/engine/scheduler/locks.js';
import { Scheduler } from '../../src/engine/scheduler/scheduler.js';
import { FakeEngine } from '../jobs/fake-engine.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');

/** The fake engine, noting which key each backup would be made with. */
class KeyedEngine extends FakeEngine {
  readonly keysUsed: string[] = [];
  constructor(
    clock: ManualClock,
    private readonly keyring: Keyring,
  ) {
    super(clock);
  }
  override backup(...args: Parameters<EngineOps['backup']>): ReturnType<EngineOps['backup']> {
    this.keysUsed.push(this.keyring.current().id);
    return super.backup(...args);
  }
}

let clock: ManualClock;
let catalog: Catalog;
let storeFile: string;

beforeEach(async () => {
  clock = new ManualClock(T0);
  catalog = Catalog.open(':memory:', clock);
  storeFile = path.join(await mkdtemp(path.join(tmpdir(), 'fb-rotation-')), 'keys.json');
  await new KeyStore(storeFile, clock).rotate();
});
afterEach(() => catalog.close());

/** One process's scheduler (the daemon's, or a CLI's) with its own keyring and store handle. */
async function process_(notifier: MemoryNotifier, log?: (line: string) => void) {
  const store = new KeyStore(storeFile, clock);
  const keyring = await store.keyring();
  const engine = new KeyedEngine(clock, keyring);
  const locks = new LockManager(catalog.db, { clock, heartbeatMs: 3_600_000 });
  const jobs = new JobManager({ catalog, locks, clock });
  const { intervalMs } = rotationSettingsFromEnv({
    ENCRYPTION_KEY_ROTATION: 'true',
    ENCRYPTION_KEY_ROTATION_INTERVAL: '90d',
  }) as { intervalMs: number };
  const keyRotation = new KeyRotator({ store, intervalMs, keyring, catalog, clock, notifier });
  const scheduler = new Scheduler({
    catalog,
    engine,
    jobs,
    clock,
    notifier,
    keyRotation,
    ...(log ? { log } : {}),
  });
  return { scheduler, keyring, engine };
}

describe('scheduled key rotation', () => {
  it('rotates once when the interval passes, before the backup, recorded and notified; a second process adopts the key', async () => {
    const project = catalog.projects.upsert({ name: 'demo', firebaseProjectId: 'demo' });
    const destination = catalog.destinations.upsert({ name: 'local', url: '/tmp/fb-dest' });
    catalog.schedules.add({
      name: 'nightly',
      projectId: project.id,
      destinationId: destination.id,
      cron: '0 2 * * *',
      timeZone: 'UTC',
      verifyAfter: { mode: 'none' },
    });
    const notifier = new MemoryNotifier();
    const daemon = await process_(notifier);
    const cli = await process_(notifier);
    const firstKey = daemon.keyring.current().id;

    // Day 89: not due.
    clock.set(new Date(T0 + 89 * DAY + 2 * 3_600_000));
    const [early] = await daemon.scheduler.check();
    await clock.advance(1000);
    await early!.done;
    expect(daemon.engine.keysUsed).toEqual([firstKey]);

    // Day 91: both processes check at the same moment; one rotation between them.
    clock.set(new Date(T0 + 91 * DAY + 2 * 3_600_000));
    const started = await Promise.all([daemon.scheduler.check(), cli.scheduler.check()]);
    await clock.advance(1000);
    for (const job of started.flat()) await job.done;

    const store = new KeyStore(storeFile, clock);
    const keys = await store.list();
    expect(keys).toHaveLength(2);
    const newKey = keys.find((k) => k.current)!.id;
    expect(newKey).not.toBe(firstKey);
    // The backup that ran after the rotation used the new key; both processes hold it.
    // (Whichever process claimed the occurrence ran it.)
    expect([...daemon.engine.keysUsed, ...cli.engine.keysUsed]).toEqual([firstKey, newKey]);
    expect(cli.keyring.current().id).toBe(newKey);
    expect(cli.keyring.find(firstKey)).toBeDefined();

    const rotations = catalog.runs.list({ kind: 'rotate' });
    expect(rotations).toHaveLength(1);
    expect(rotations[0]).toMatchObject({
      status: 'succeeded',
      detail: { keyId: newKey, previousKeyId: firstKey },
    });
    const sent = notifier.sent.filter((n) => n.kind === 'key.rotated');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.message).toContain(newKey);
    expect(sent[0]!.message).toContain(storeFile);

    // The next day: no second rotation.
    clock.set(new Date(T0 + 92 * DAY + 2 * 3_600_000));
    await daemon.scheduler.check();
    await clock.advance(1000);
    expect(await store.list()).toHaveLength(2);
  });

  it('starts no run while the key store is gone (the key would exist only in memory)', async () => {
    const project = catalog.projects.upsert({ name: 'demo', firebaseProjectId: 'demo' });
    const destination = catalog.destinations.upsert({ name: 'local', url: '/tmp/fb-dest' });
    catalog.schedules.add({
      name: 'nightly',
      projectId: project.id,
      destinationId: destination.id,
      cron: '0 2 * * *',
      timeZone: 'UTC',
      verifyAfter: { mode: 'none' },
    });
    const lines: string[] = [];
    const daemon = await process_(new MemoryNotifier(), (l) => lines.push(l));
    await rm(storeFile);
    clock.set(new Date(T0 + 2 * 3_600_000 + 1000));
    expect(await daemon.scheduler.check()).toEqual([]);
    expect(daemon.engine.keysUsed).toEqual([]);
    expect(lines.join('\n')).toMatch(/No runs start: the key store cannot be read/);
  });

  it('reads its settings from the environment and refuses bad values clearly', () => {
    expect(rotationSettingsFromEnv({})).toEqual({ enabled: false });
    expect(rotationSettingsFromEnv({ ENCRYPTION_KEY_ROTATION: 'true' })).toEqual({
      enabled: true,
      intervalMs: 90 * DAY,
    });
    expect(() =>
      rotationSettingsFromEnv({
        ENCRYPTION_KEY_ROTATION: 'true',
        ENCRYPTION_KEY_ROTATION_INTERVAL: '90',
      }),
    ).toThrow(/ENCRYPTION_KEY_ROTATION_INTERVAL must be a duration like 90d/);
    expect(() => rotationSettingsFromEnv({ ENCRYPTION_KEY_ROTATION: 'yes please' })).toThrow(
      /ENCRYPTION_KEY_ROTATION must be true or false/,
    );
  });
});
