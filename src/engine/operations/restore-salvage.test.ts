import { describe, expect, it } from 'vitest';
import type { AuthHashConfigRecord } from '../sources/auth/records.js';
import { SourceSalvage } from './restore-salvage.js';
import type { ScannedRecord } from './source-records.js';

const json = Buffer.from('{}');
const config = (tenantId?: string): ScannedRecord => ({
  kind: 'auth-config',
  record: {
    source: 'emulator',
    project: 'p',
    ...(tenantId ? { tenantId } : {}),
    hashConfig: { algorithm: 'FIREBASE_AUTH_EMULATOR' },
  } as AuthHashConfigRecord,
  json,
});
const user = (localId: string, tenantId?: string): ScannedRecord => ({
  kind: 'auth-user',
  record: { localId, ...(tenantId ? { tenantId } : {}) },
  json,
});
const object = (name: string, size: number): ScannedRecord => ({
  kind: 'storage-object',
  record: { bucket: 'b', name, size: String(size) },
  json,
});
const content = (n: number): ScannedRecord => ({ kind: 'storage-content', bytes: Buffer.alloc(n) });

async function run(salvage: SourceSalvage, records: ScannedRecord[]): Promise<string[]> {
  const out: string[] = [];
  for await (const r of salvage.filter(
    (async function* () {
      yield* records;
    })(),
  )) {
    out.push(
      r.kind === 'auth-user'
        ? `user ${r.record.localId}`
        : r.kind === 'storage-object'
          ? `object ${r.record.name}`
          : r.kind,
    );
  }
  return out;
}

/** The records of a salvaged read as restore-salvage.ts leaves them for the restores. */
describe('salvage of Auth and Storage records', () => {
  it("leaves out users whose scope's configuration was lost", async () => {
    // Tenant t's configuration record was in the lost segment: its users follow the project's.
    const salvage = new SourceSalvage(new Set());
    expect(await run(salvage, [config(), user('a'), user('t1', 't'), user('t2', 't')])).toEqual([
      'auth-config',
      'user a',
    ]);
    expect(salvage.result({ 'auth.users': 4 })).toMatchObject({
      usersRecovered: 1,
      usersExpected: 4,
      usersWithoutConfig: 2,
    });
  });

  it('finds an object cut short, and leaves it out whole on the second pass', async () => {
    // x is 10 bytes but only 4 were read before the gap; reading resumed at y.
    const records = [object('x', 10), content(4), object('y', 3), content(3), object('e', 0)];
    const first = new SourceSalvage(new Set());
    await run(first, records);
    expect(first.cutOrdinals).toEqual([0]);
    const second = new SourceSalvage(new Set(first.cutOrdinals));
    expect(await run(second, records)).toEqual(['object y', 'storage-content', 'object e']);
    expect(second.result({ 'storage.objects': 4 })).toEqual({
      usersRecovered: 0,
      usersWithoutConfig: 0,
      objectsRecovered: 2,
      objectsExpected: 4,
      objectsCut: ['gs://b/x'],
    });
  });

  it('names an object cut by the end of a truncated archive', async () => {
    const salvage = new SourceSalvage(new Set());
    await run(salvage, [object('y', 3), content(3), object('z', 5), content(2)]);
    expect(salvage.result({}).objectsCut).toEqual(['gs://b/z']);
  });
});
