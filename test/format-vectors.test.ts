import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openAllRecords } from '../src/engine/archive/small-archive.js';
import { Keyring } from '../src/engine/keys/keyring.js';
import { MasterKey } from '../src/engine/keys/master-key.js';
import { VECTOR_KEY_HEX } from './fixtures/format-v1/make-vectors.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/format-v1');

describe('format v1 known-answer vectors (committed; must stay readable forever)', () => {
  it('reads vector-1.fbk to exactly the expected records', async () => {
    const bytes = await readFile(path.join(dir, 'vector-1.fbk'));
    const expected = JSON.parse(await readFile(path.join(dir, 'expected.json'), 'utf8')) as {
      keyId: string;
      records: Array<{ type: number; payload: string }>;
    };
    const key = MasterKey.fromHex(VECTOR_KEY_HEX, 'the test vector key');
    expect(key.id).toBe(expected.keyId);
    const { records, summary } = await openAllRecords(bytes, new Keyring(key));
    expect(records.map((r) => ({ type: r.type, payload: r.payload.toString('utf8') }))).toEqual(
      expected.records,
    );
    expect(summary.segments).toBeGreaterThan(1);
    expect(summary.trailer.counts).toEqual({ 'firestore.documents': 40 });
  });

  it('keeps the documented header layout', async () => {
    const bytes = await readFile(path.join(dir, 'vector-1.fbk'));
    expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x46, 0x42, 0x4b, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(bytes.readUInt16BE(8)).toBe(1);
    expect(bytes.readUInt32BE(12)).toBe(4096);
    const envelopeLength = bytes.readUInt16BE(10);
    expect(bytes[24]).toBe(17); // key id length: 'k' + 16 hex
    expect(envelopeLength).toBe(1 + 17 + 12 + 48);
  });
});
