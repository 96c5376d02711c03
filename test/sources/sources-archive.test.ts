/**
 * Auth users and Storage objects through a real archive: written by the archive writer
 * from the emulators, authenticated and decoded by the reader, split into sections and
 * restored into a second project and bucket.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { ArchiveReader } from '../../src/engine/archive/reader.js';
import { RecordType } from '../../src/engine/archive/records.js';
import { ArchiveWriter } from '../../src/engine/archive/writer.js';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import {
  authScopes,
  decodeSourceRecord,
  parseSources,
  sections,
  storageItems,
  writeAuthRecords,
  writeStorageRecords,
  type ScannedRecord,
} from '../../src/engine/operations/source-records.js';
import { openAuth } from '../../src/engine/sources/auth/connection.js';
import { exportUsers, readHashConfig } from '../../src/engine/sources/auth/export.js';
import { restoreUsers } from '../../src/engine/sources/auth/restore.js';
import { openStorageSource } from '../../src/engine/sources/storage/connection.js';
import { exportObjects } from '../../src/engine/sources/storage/export.js';
import { restoreObjects } from '../../src/engine/sources/storage/restore.js';
import { signInWithPassword } from '../helpers/auth-emulator.js';
import { useAuthEmulator } from '../helpers/auth-emulator-hooks.js';

const gcsHost = inject('gcsEmulatorHost');
const auth = useAuthEmulator();

const rand = (): string => randomBytes(4).toString('hex');

async function collectBytes(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('source records', () => {
  it('parses --sources in archive order and names what is unknown', () => {
    expect(parseSources('storage, AUTH,firestore')).toEqual(['firestore', 'auth', 'storage']);
    expect(parseSources('rtdb,storage, auth')).toEqual(['auth', 'rtdb', 'storage']);
    expect(() => parseSources('auth,s3')).toThrow(/Unknown source\(s\) s3\. Choose from/);
  });

  it.skipIf(!gcsHost)(
    'carries Auth users and Storage objects through an encrypted archive into a second project and bucket',
    async () => {
      const sourceAuth = openAuth({ projectId: `demo-${rand()}`, emulatorHost: auth.host });
      await sourceAuth.request(
        'POST',
        `/v1/projects/${sourceAuth.projectId}/accounts:batchCreate`,
        {
          users: [
            { localId: 'u1', email: 'u1@example.com', rawPassword: 'pw-one' },
            { localId: 'u2', phoneNumber: '+15555550123' },
          ],
        },
      );
      const tenant = await sourceAuth.request<{ tenantId: string }>(
        'POST',
        `/v2/projects/${sourceAuth.projectId}/tenants`,
        { displayName: 'acme' },
      );
      await sourceAuth.request(
        'POST',
        `/v1/projects/${sourceAuth.projectId}/tenants/${tenant.tenantId}/accounts:batchCreate`,
        { users: [{ localId: 'tenant-user', tenantId: tenant.tenantId }] },
      );
      const storage = openStorageSource({ emulatorHost: gcsHost });
      const fromBucket = storage.bucket(`src-${rand()}`);
      const big = randomBytes(2 * 1024 * 1024 + 5);
      await fromBucket.file('a/big.bin').save(big, {
        resumable: false,
        metadata: { metadata: { firebaseStorageDownloadTokens: 'tok' } },
      });
      await fromBucket.file('a/empty').save(Buffer.alloc(0), { resumable: false });

      const key = MasterKey.generate();
      const writer = new ArchiveWriter({ key, blockSize: 64 * 1024 });
      const stored = collectBytes(writer.output);
      await writer.writeJson(RecordType.BackupHeader, { format: 1 });
      expect(await writeAuthRecords(writer, sourceAuth)).toEqual({ users: 3, tenants: 1 });
      expect(await writeStorageRecords(writer, exportObjects(fromBucket))).toEqual({
        objects: 2,
        bytes: big.length,
      });
      const summary = await writer.finish();
      expect(summary.trailer.counts).toEqual({ 'auth.users': 3, 'storage.objects': 2 });

      const reader = new ArchiveReader(
        (async function* () {
          yield await stored;
        })(),
        new Keyring(key),
      );
      const decoded = (async function* (): AsyncGenerator<ScannedRecord> {
        for await (const raw of reader.records()) {
          const r = decodeSourceRecord(raw);
          if (r) yield r;
        }
      })();
      const targetAuth = openAuth({ projectId: `demo-${rand()}`, emulatorHost: auth.host });
      const toBucket = storage.bucket(`dst-${rand()}`);
      const order: string[] = [];
      for await (const section of sections(decoded)) {
        order.push(section.source);
        if (section.source === 'auth') {
          const scopes = [];
          for await (const scope of authScopes(section.records)) {
            scopes.push(scope.hashConfig.tenantId ?? '(project)');
            if (scope.hashConfig.tenantId) {
              // The tenant exists in the source project only: its user is found there.
              const report = await restoreUsers(sourceAuth, scope.users, {
                mode: 'create',
                hashConfig: scope.hashConfig,
              });
              expect(report).toMatchObject({ created: 0, skipped: 1, failedCount: 0 });
              continue;
            }
            const report = await restoreUsers(targetAuth, scope.users, {
              mode: 'create',
              hashConfig: scope.hashConfig,
            });
            expect(report).toMatchObject({ created: 2, failedCount: 0 });
          }
          expect(scopes).toEqual(['(project)', tenant.tenantId]);
        } else {
          const report = await restoreObjects(toBucket, storageItems(section.records), {
            mode: 'create',
            resumable: false,
            preconditions: false,
          });
          expect(report).toMatchObject({ created: 2, bytes: big.length, failedCount: 0 });
        }
      }
      expect(order).toEqual(['auth', 'storage']);
      expect(
        await signInWithPassword(auth.host, targetAuth.projectId, 'u1@example.com', 'pw-one'),
      ).toBe('u1');
      const { hashConfig } = await readHashConfig(targetAuth);
      const restored: string[] = [];
      for await (const u of exportUsers(targetAuth, { hashConfig })) restored.push(u.localId);
      expect(restored).toEqual(['u1', 'u2']);
      const [data] = await toBucket.file('a/big.bin').download();
      expect(data.equals(big)).toBe(true);
      const [meta] = await toBucket.file('a/big.bin').getMetadata();
      expect(meta.metadata).toEqual({ firebaseStorageDownloadTokens: 'tok' });
      expect((await toBucket.file('a/empty').exists())[0]).toBe(true);
    },
  );
});
