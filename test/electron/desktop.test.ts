import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/engine/clock.js';
import { createApiHandlers } from '../../src/engine/api/handlers.js';
import { createRuntime, type Runtime } from '../../src/engine/jobs/runtime.js';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { Desktop } from '../../src/main/desktop.js';
import { createDesktopSecretStore } from '../../src/main/secrets.js';
import { trayModel } from '../../src/main/tray-model.js';
import { createDispatcher } from '../../src/shared/api/dispatch.js';
import { FakeEngine } from '../jobs/fake-engine.js';

/**
 * The desktop app's behaviour over a real runtime and catalog file (the engine's work is
 * the in-memory FakeEngine, timed by a manual clock): schedules shared with a daemon,
 * wake from sleep, pause, Back up now, and Quit.
 */
let dir: string;
let clock: ManualClock;
const open: { runtime: Runtime; desktop?: Desktop }[] = [];

function runtimeOnCatalog(): { runtime: Runtime; engine: FakeEngine } {
  const engine = new FakeEngine(clock);
  const runtime = createRuntime({ catalogFile: path.join(dir, 'catalog.sqlite'), engine, clock });
  open.push({ runtime });
  return { runtime, engine };
}

function desktopOn(runtime: Runtime): Desktop {
  const keyring = new Keyring(MasterKey.generate());
  const desktop = new Desktop({
    runtime,
    dispatch: createDispatcher(createApiHandlers(runtime, keyring)),
  });
  open.find((o) => o.runtime === runtime)!.desktop = desktop;
  return desktop;
}

function addNightly(runtime: Runtime) {
  const project = runtime.catalog.projects.upsert({ name: 'shop', firebaseProjectId: 'shop' });
  const destination = runtime.catalog.destinations.upsert({
    name: 'local',
    url: path.join(dir, 'b'),
  });
  const schedule = runtime.catalog.schedules.add({
    name: 'nightly',
    projectId: project.id,
    destinationId: destination.id,
    cron: '0 2 * * *',
    timeZone: 'UTC',
    verifyAfter: { mode: 'none' },
  });
  return { project, destination, schedule };
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fb-desktop-'));
  clock = new ManualClock('2026-05-01T00:00:00Z');
});
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.desktop?.shutdown({ graceMs: 0, cancelTimeoutMs: 1000 });
    o.runtime.scheduler.stop();
    o.runtime.close();
  }
  await rm(dir, { recursive: true, force: true });
});

describe('the desktop app and a daemon on one catalog', () => {
  it('run a scheduled occurrence once, whoever checks first', async () => {
    const app = runtimeOnCatalog();
    const daemon = runtimeOnCatalog();
    const { schedule } = addNightly(app.runtime);
    const desktop = desktopOn(app.runtime);
    expect(await desktop.start()).toEqual([]);
    expect(await daemon.runtime.scheduler.start()).toEqual([]);

    clock.set('2026-05-01T02:00:01Z');
    const started = [
      ...(await Promise.all([app.runtime.scheduler.check(), daemon.runtime.scheduler.check()])),
    ].flat();
    expect(started).toHaveLength(1);
    await clock.advance(1000);
    await started[0]!.done;
    const runs = app.runtime.catalog.runs.list({ scheduleId: schedule.id });
    expect(runs.map((r) => [r.status, r.scheduledFor])).toEqual([
      ['succeeded', '2026-05-01T02:00:00.000Z'],
    ]);
    expect(app.engine.calls.length + daemon.engine.calls.length).toBe(1);
  });

  it('after sleep, the app and the daemon waking together catch up once and record each miss', async () => {
    const app = runtimeOnCatalog();
    const daemon = runtimeOnCatalog();
    const { schedule } = addNightly(app.runtime);
    const desktop = desktopOn(app.runtime);
    await desktop.start();
    await daemon.runtime.scheduler.start();

    clock.set('2026-05-04T09:00:00Z'); // asleep for four nightly runs
    const started = (
      await Promise.all([desktop.onResume(), daemon.runtime.scheduler.check()])
    ).flat();
    expect(started).toHaveLength(1);
    await clock.advance(1000);
    const run = await started[0]!.done;
    expect(run).toMatchObject({ status: 'succeeded', trigger: 'catch-up' });
    const missed = app.runtime.catalog.runs.list({ scheduleId: schedule.id, status: 'missed' });
    expect(missed.map((r) => r.scheduledFor).sort()).toEqual([
      '2026-05-01T02:00:00.000Z',
      '2026-05-02T02:00:00.000Z',
      '2026-05-03T02:00:00.000Z',
      '2026-05-04T02:00:00.000Z',
    ]);
  });
});

describe('the desktop app', () => {
  it('checks schedules at once on wake from sleep', async () => {
    const { runtime } = runtimeOnCatalog();
    addNightly(runtime);
    const desktop = desktopOn(runtime);
    await desktop.start();
    clock.set('2026-05-02T08:00:00Z');
    const [job] = await desktop.onResume();
    expect(job).toBeDefined();
    expect(runtime.catalog.runs.list({ status: 'missed' }).map((r) => r.scheduledFor)).toEqual([
      '2026-05-02T02:00:00.000Z',
      '2026-05-01T02:00:00.000Z',
    ]);
    await clock.advance(1000);
    await job!.done;
  });

  it('pause for an hour: nothing runs, then resumes by itself and catches up what fell due', async () => {
    const { runtime, engine } = runtimeOnCatalog();
    addNightly(runtime);
    const desktop = desktopOn(runtime);
    await desktop.start();
    clock.set('2026-05-01T01:30:00Z');
    await desktop.act({ kind: 'pause', hours: 1 }, { openWindow: () => {}, quit: () => {} });
    expect(desktop.snapshot('light').pause).toEqual({ until: '2026-05-01T02:30:00.000Z' });
    expect(trayModel(desktop.snapshot('light')).state).toBe('paused');

    clock.set('2026-05-01T02:00:01Z');
    expect(await desktop.onResume()).toEqual([]); // paused: a wake-up starts nothing
    expect(engine.calls).toEqual([]);

    await clock.advance(30 * 60_000); // the hour is up
    expect(desktop.snapshot('light').pause).toBeNull();
    const missed = runtime.catalog.runs.list({ status: 'missed' });
    expect(missed.map((r) => r.scheduledFor)).toEqual(['2026-05-01T02:00:00.000Z']);
    await clock.advance(1000);
    expect(engine.calls).toEqual(['backup:shop']);
  });

  it('pause until resumed, then Resume from the tray', async () => {
    const { runtime } = runtimeOnCatalog();
    addNightly(runtime);
    const desktop = desktopOn(runtime);
    await desktop.start();
    const shell = { openWindow: () => {}, quit: () => {} };
    await desktop.act({ kind: 'pause', hours: null }, shell);
    await clock.advance(5 * 3_600_000);
    expect(desktop.snapshot('dark').pause).toEqual({ until: null });
    await desktop.act({ kind: 'resume' }, shell);
    expect(desktop.snapshot('dark').pause).toBeNull();
    expect(runtime.catalog.runs.list({ status: 'missed' })).toHaveLength(1);
  });

  it('Back up now goes through the contract and the tray shows the job with its progress', async () => {
    const { runtime, engine } = runtimeOnCatalog();
    const { project, destination } = addNightly(runtime);
    let changes = 0;
    const keyring = new Keyring(MasterKey.generate());
    const desktop = new Desktop({
      runtime,
      dispatch: createDispatcher(createApiHandlers(runtime, keyring)),
      onChange: () => changes++,
    });
    open.at(-1)!.desktop = desktop;
    await desktop.start();
    const snap = desktop.snapshot('light');
    expect(snap.projects).toEqual([
      { id: project.id, name: 'shop', destinationId: destination.id },
    ]);
    await desktop.act(
      { kind: 'backup-now', projectId: project.id, destinationId: destination.id },
      { openWindow: () => {}, quit: () => {} },
    );
    await clock.advance(500); // half way: FakeEngine reports 50 of 100
    const model = trayModel(desktop.snapshot('light'));
    expect(model.state).toBe('running');
    expect(model.menu[0]).toEqual({ type: 'label', label: 'Backing up shop: 50%' });
    await clock.advance(500);
    await Promise.all(runtime.jobs.active().map((j) => j.done));
    expect(engine.calls[0]).toBe('backup:shop');
    expect(changes).toBeGreaterThan(0);
    expect(trayModel(desktop.snapshot('light')).menu[1]).toMatchObject({
      label: expect.stringMatching(/^Last run: succeeded/),
    });
  });

  it('Quit lets a job finish within the grace, else cancels it cleanly', async () => {
    const { runtime, engine } = runtimeOnCatalog();
    const { project, destination } = addNightly(runtime);
    const desktop = desktopOn(runtime);
    await desktop.start();
    engine.durationMs = 3_600_000; // never finishes on its own: the manual clock stands still
    await desktop.act(
      { kind: 'backup-now', projectId: project.id, destinationId: destination.id },
      { openWindow: () => {}, quit: () => {} },
    );
    const [job] = runtime.jobs.active();
    expect(await desktop.shutdown({ graceMs: 50, cancelTimeoutMs: 5000 })).toBe('cancelled');
    const run = await job!.done;
    expect(run.status).toBe('cancelled');
    expect(run.error?.message).toMatch(/FireBackup was quit/);
    // Stopped: a wake-up no longer starts anything.
    clock.set('2026-05-03T08:00:00Z');
    expect(await desktop.onResume()).toEqual([]);
  });

  it('Quit with nothing running is immediate', async () => {
    const { runtime } = runtimeOnCatalog();
    const desktop = desktopOn(runtime);
    await desktop.start();
    expect(await desktop.shutdown()).toBe('idle');
  });
});

describe('secret storage state through the contract', () => {
  it('the renderer sees a keyring-less Linux plainly and can agree', async () => {
    const { runtime } = runtimeOnCatalog();
    let given = false;
    const secrets = createDesktopSecretStore({
      file: path.join(dir, 'secrets.desktop.json'),
      platform: 'linux',
      consent: { given: () => given, give: () => void (given = true) },
      safeStorage: {
        isEncryptionAvailable: () => true,
        encryptString: (s) => Buffer.from(s),
        decryptString: (b) => b.toString(),
        getSelectedStorageBackend: () => 'basic_text',
      },
    });
    const keyring = new Keyring(MasterKey.generate());
    const dispatch = createDispatcher(createApiHandlers(runtime, keyring, { secrets }));
    const before = await dispatch('secrets.protection', {}, { kind: 'local' });
    expect(before).toMatchObject({
      ok: true,
      value: { backend: 'basic_text', encrypted: false, needsConsent: true },
    });
    const after = await dispatch('secrets.acceptWeakStorage', {}, { kind: 'local' });
    expect(after).toMatchObject({
      ok: true,
      value: { backend: 'basic_text', needsConsent: false },
    });
    expect(await dispatch('secrets.protection', { extra: 1 }, { kind: 'local' })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT' },
    });
  });
});
