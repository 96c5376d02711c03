import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDispatcher } from '../../src/shared/api/dispatch.js';
import { createApiHandlers } from '../../src/engine/api/handlers.js';
import type { Runtime } from '../../src/engine/jobs/runtime.js';
import type { Keyring } from '../../src/engine/keys/keyring.js';
import { openFirestore } from '../../src/engine/sources/firestore/connection.js';
import { writeRaw } from '../helpers/firestore-seed.js';
import { okValue as value } from '../helpers/api-result.js';
import { seededRuntime } from '../helpers/seeded-runtime.js';

const host = inject('firestoreEmulatorHost');
const local = { kind: 'local' as const };

/** The Backups screen's methods over the real engine, a real archive and the emulator. */
describe.skipIf(!host)('backups: search, detail, browse, verify, delete', () => {
  let runtime: Runtime;
  let dispatch: ReturnType<typeof createDispatcher>;
  let destinationId: string;
  let backupId: string;
  let firebaseProject: string;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fb-browse-'));
    let keyring: Keyring;
    let projectId: string;
    ({ runtime, keyring, projectId, destinationId } = await seededRuntime(
      host,
      dir,
      'browse',
      600,
    ));
    firebaseProject = runtime.catalog.projects.get(projectId).firebaseProjectId;
    // One document with every value type a viewer must show exactly.
    const conn = await openFirestore({ projectId: firebaseProject, emulatorHost: host });
    await writeRaw(conn, [
      {
        path: 'typed/all',
        fields: {
          big: { integerValue: '9223372036854775807' },
          nan: { doubleValue: NaN },
          inf: { doubleValue: -Infinity },
          negZero: { doubleValue: -0 },
          at: { timestampValue: { seconds: '1700000000', nanos: 123456789 } },
          raw: { bytesValue: Buffer.from([0, 1, 254, 255]) },
          where: { geoPointValue: { latitude: 48.8566, longitude: 2.3522 } },
          ref: {
            referenceValue: `projects/${firebaseProject}/databases/(default)/documents/users/x`,
          },
        },
      },
      { path: 'typed/all/notes/n1', fields: { text: { stringValue: 'child' } } },
      { path: 'ghosts/none/kids/k1', fields: { text: { stringValue: 'orphan' } } },
    ]);
    await conn.close();
    dispatch = createDispatcher(createApiHandlers(runtime, keyring));
    const { jobId } = value<{ jobId: string }>(
      await dispatch('jobs.startBackup', { projectId, destinationId }, local),
    );
    const run = await runtime.jobs.get(jobId)!.done;
    expect(run.status).toBe('succeeded');
    backupId = run.backupId!;
  });
  afterAll(() => runtime?.close());

  it('searches the catalog with filters, and refuses a malformed date', async () => {
    const all = value<{ backups: Array<{ id: string; documents: number }>; total: number }>(
      await dispatch('backups.search', {}, local),
    );
    expect(all.total).toBe(1);
    expect(all.backups[0]).toMatchObject({
      id: backupId,
      documents: 603,
      project: firebaseProject,
    });
    const none = value<{ total: number }>(
      await dispatch('backups.search', { project: 'someone-else' }, local),
    );
    expect(none.total).toBe(0);
    const byText = value<{ total: number }>(
      await dispatch('backups.search', { text: backupId.slice(-8).toUpperCase() }, local),
    );
    expect(byText.total).toBe(1);
    const future = value<{ total: number }>(
      await dispatch('backups.search', { from: '2999-01-01' }, local),
    );
    expect(future.total).toBe(0);
    expect(await dispatch('backups.search', { from: 'yesterday-ish' }, local)).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT' },
    });
  });

  it('writes a sealed browse directory beside a backup, so no local index is needed', async () => {
    const backups = path.join(dir, 'backups');
    expect((await readdir(backups)).sort()).toEqual(
      ['.fbk', '.fbm', '.fbx'].map((suffix) => `${backupId}${suffix}`),
    );
    const bytes = await readFile(path.join(backups, `${backupId}.fbx`));
    // Sealed: neither document ids nor values are readable in the file.
    expect(bytes.includes(Buffer.from('typed'))).toBe(false);
    expect(bytes.includes(Buffer.from('orphan'))).toBe(false);
    // Browsing it reads the directory: nothing is built or saved on this machine.
    value(await dispatch('backups.collections', { destinationId, backupId }, local));
    expect(await readdir(path.join(dir, 'browse-index')).catch(() => [])).toEqual([]);
  });

  it('shows the manifest', async () => {
    const detail = value<Record<string, unknown>>(
      await dispatch('backups.detail', { destinationId, backupId }, local),
    );
    expect(detail).toMatchObject({
      id: backupId,
      project: firebaseProject,
      database: '(default)',
      sources: ['firestore'],
      counts: expect.objectContaining({ 'firestore.documents': 603 }),
      keyId: expect.any(String),
      verification: { state: 'verified' },
    });
    expect(detail.readTime).toMatch(/^\d{4}-.*Z$/);
  });

  it('browses collections and pages documents in Firestore order with a cursor', async () => {
    const roots = value<{ collections: Array<{ id: string; documents: number }> }>(
      await dispatch('backups.collections', { destinationId, backupId }, local),
    );
    expect(roots.collections.map((c) => c.id)).toEqual([
      'ghosts',
      'orders',
      'products',
      'typed',
      'users',
    ]);
    expect(roots.collections.find((c) => c.id === 'users')!.documents).toBe(100);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = value<{
        documents: Array<{ id: string; subcollections: number }>;
        nextCursor: string | null;
        total: number;
      }>(
        await dispatch(
          'backups.documents',
          {
            destinationId,
            backupId,
            collection: 'users',
            limit: 30,
            ...(cursor ? { cursor } : {}),
          },
          local,
        ),
      );
      expect(page.total).toBe(100);
      seen.push(...page.documents.map((d) => d.id));
      expect(page.documents.every((d) => d.subcollections === 1)).toBe(true);
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen).toHaveLength(100);
    expect(seen).toEqual([...seen].sort());
    const events = value<{ collections: Array<{ path: string; documents: number }> }>(
      await dispatch(
        'backups.collections',
        { destinationId, backupId, parent: `users/${seen[0]}` },
        local,
      ),
    );
    expect(events.collections).toEqual([
      { id: 'events', path: `users/${seen[0]}/events`, documents: 1 },
    ]);
  });

  it('lists a document that exists only through its subcollections, marked missing', async () => {
    const ghosts = value<{ documents: Array<{ id: string; missing: boolean }> }>(
      await dispatch('backups.documents', { destinationId, backupId, collection: 'ghosts' }, local),
    );
    expect(ghosts.documents).toEqual([
      { id: 'none', path: 'ghosts/none', missing: true, subcollections: 1 },
    ]);
  });

  it('shows a document with its exact typed values', async () => {
    const { document, subcollections } = value<{
      document: { fields: Record<string, unknown> };
      subcollections: unknown[];
    }>(await dispatch('backups.document', { destinationId, backupId, path: 'typed/all' }, local));
    expect(document.fields).toEqual({
      big: { integerValue: '9223372036854775807' },
      nan: { doubleValue: 'NaN' },
      inf: { doubleValue: '-Infinity' },
      negZero: { doubleValue: '-0' },
      // Firestore keeps microseconds; the nine digits say so exactly.
      at: { timestampValue: '2023-11-14T22:13:20.123456000Z' },
      raw: { bytesValue: 'AAH+/w==' },
      where: { geoPointValue: { latitude: 48.8566, longitude: 2.3522 } },
      ref: {
        referenceValue: `projects/${firebaseProject}/databases/(default)/documents/users/x`,
      },
    });
    expect(subcollections).toEqual([{ id: 'notes', path: 'typed/all/notes', documents: 1 }]);
    expect(
      await dispatch('backups.document', { destinationId, backupId, path: 'typed/nope' }, local),
    ).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(
      await dispatch('backups.document', { destinationId, backupId, path: 'typed' }, local),
    ).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
  });

  it('verifies now as a job and records the result', async () => {
    const { jobId } = value<{ jobId: string }>(
      await dispatch('backups.verify', { destinationId, backupId }, local),
    );
    const run = await runtime.jobs.get(jobId)!.done;
    expect(run).toMatchObject({ kind: 'verify', status: 'succeeded' });
    expect(runtime.catalog.backups.get(destinationId, backupId)?.verifyStatus).toBe('ok');
  });

  it('deletes only with the backup id typed as confirmation', async () => {
    expect(
      await dispatch('backups.delete', { destinationId, backupId, confirm: 'yes' }, local),
    ).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(await dispatch('backups.delete', { destinationId, backupId }, local)).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT' },
    });
    const viewer = { kind: 'member' as const, role: 'viewer' as const };
    expect(
      await dispatch('backups.delete', { destinationId, backupId, confirm: backupId }, viewer),
    ).toMatchObject({ ok: false, error: { code: 'PERMISSION_DENIED' } });
    expect(value(await dispatch('backups.list', { destinationId }, local))).toHaveLength(1);

    expect(
      await dispatch('backups.delete', { destinationId, backupId, confirm: backupId }, local),
    ).toEqual({ ok: true, value: { deleted: true } });
    expect(value(await dispatch('backups.list', { destinationId }, local))).toEqual([]);
    // The archive, the manifest and the browse directory are all gone.
    expect(await readdir(path.join(dir, 'backups'))).toEqual([]);
    expect(value<{ total: number }>(await dispatch('backups.search', {}, local)).total).toBe(0);
    expect(await dispatch('backups.collections', { destinationId, backupId }, local)).toMatchObject(
      { ok: false, error: { code: 'NOT_FOUND' } },
    );
  });
});
