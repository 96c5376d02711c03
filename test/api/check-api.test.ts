import { mkdtemp, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckReport } from '../../src/shared/check.js';
import { createDispatcher } from '../../src/shared/api/dispatch.js';
import { createApiHandlers } from '../../src/engine/api/handlers.js';
import { createRuntime, type Runtime } from '../../src/engine/jobs/runtime.js';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { archiveKeyOf } from '../../src/engine/operations/backup-names.js';
import { LocalBackend } from '../../src/engine/storage/local/local-backend.js';
import { damage, keysOf, type Damaged } from '../helpers/damaged-destination.js';

/** The check through the typed contract, as the GUI calls it: validated, permission-checked, recorded. */
describe('destinations.check and destinations.repair through the dispatcher', () => {
  let runtime: Runtime;
  let dispatch: ReturnType<typeof createDispatcher>;
  let destinationId: string;
  let dir: string;
  let d: Damaged;
  const local = { kind: 'local' as const };

  beforeAll(async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'fb-check-api-'));
    dir = path.join(home, 'backups');
    const key = MasterKey.generate();
    const keyring = new Keyring(key);
    runtime = createRuntime({ catalogFile: path.join(home, 'catalog.sqlite'), keyring });
    dispatch = createDispatcher(createApiHandlers(runtime, keyring));
    const backend = new LocalBackend(dir);
    d = await damage(backend, backend, key);
    destinationId = runtime.catalog.destinations.upsert({ name: 'local', url: dir }).id;
  });
  afterAll(() => runtime?.close());

  it('answers with the report, records a failed check run, and refuses bad input', async () => {
    const answer = await dispatch('destinations.check', { destinationId, readData: 1 }, local);
    expect(answer.ok).toBe(true);
    const report = (answer as { value: CheckReport }).value;
    expect(report.categories.data.items.map((i) => i.id)).toEqual([d.flipped]);
    expect(report.categories.orphanArchives.items.map((i) => i.id)).toEqual([d.orphanArchive]);
    // The catalog knew nothing of this destination's backups: both are "unknown" to it.
    expect(report.categories.catalogUnknown.items.map((i) => i.id)).toEqual(
      [d.good, d.flipped].sort(),
    );
    const history = await dispatch('runs.history', { kind: 'check' }, local);
    expect(history).toMatchObject({
      ok: true,
      value: [
        expect.objectContaining({
          status: 'failed',
          error: expect.objectContaining({ code: 'INTEGRITY' }),
        }),
      ],
    });
    const bad = await dispatch('destinations.check', { destinationId, readData: 2 }, local);
    expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
  });

  it('lets a viewer check but not repair; repair removes only old orphans', async () => {
    const viewer = { kind: 'member' as const, role: 'viewer' as const };
    expect(await dispatch('destinations.check', { destinationId }, viewer)).toMatchObject({
      ok: true,
    });
    expect(await dispatch('destinations.repair', { destinationId }, viewer)).toMatchObject({
      ok: false,
      error: { code: 'PERMISSION_DENIED' },
    });
    const old = new Date(Date.now() - 2 * 86_400_000);
    await utimes(path.join(dir, archiveKeyOf(d.orphanArchive)), old, old);
    const repaired = await dispatch('destinations.repair', { destinationId }, local);
    expect(repaired).toMatchObject({ ok: true });
    const report = (repaired as { value: CheckReport }).value;
    expect(report.categories.orphanArchives.items[0]).toMatchObject({ removed: true });
    // The young orphan manifest stays: it was made moments ago.
    expect(report.categories.orphanManifests.items[0]).toMatchObject({ kept: expect.any(String) });
    expect(await keysOf(new LocalBackend(dir))).not.toContain(archiveKeyOf(d.orphanArchive));
  });
});
