import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  openFirestore,
  type FirestoreConnection,
} from '../../src/engine/sources/firestore/connection.js';
import { chooseReadTime, exportDocuments } from '../../src/engine/sources/firestore/export.js';
import type { ProtoValue } from '../../src/engine/sources/firestore/protos.js';
import { restoreDocuments } from '../../src/engine/sources/firestore/restore.js';
import { timestampToString } from '../../src/engine/sources/firestore/timestamp.js';
import type { FirestoreDocumentRecord } from '../../src/shared/firestore.js';
import { canonical, readAllRaw, testProject } from '../helpers/firestore-seed.js';

const host = inject('firestoreEmulatorHost');

const dbl = (doubleValue: number): ProtoValue => ({ doubleValue });
const int = (integerValue: string): ProtoValue => ({ integerValue });
const ts = (seconds: string, nanos: number): ProtoValue => ({ timestampValue: { seconds, nanos } });

function nested(depth: number): ProtoValue {
  let v: ProtoValue = { stringValue: 'bottom' };
  for (let i = 0; i < depth; i++) {
    v = i % 2 ? { mapValue: { fields: { [`level${i}`]: v } } } : { arrayValue: { values: [v] } };
  }
  return v;
}

/** Every value type and edge case, as raw wire protos. */
function everyValue(sourceRoot: string): Record<string, ProtoValue> {
  return {
    null: { nullValue: 'NULL_VALUE' },
    true: { booleanValue: true },
    false: { booleanValue: false },
    int1: int('1'),
    double1: dbl(1),
    int0: int('0'),
    double0: dbl(0),
    negZero: dbl(-0),
    nan: dbl(NaN),
    inf: dbl(Infinity),
    negInf: dbl(-Infinity),
    int64max: int('9223372036854775807'),
    int64min: int('-9223372036854775808'),
    beyond2p53: int('9007199254740993'),
    tinyDouble: dbl(5e-324),
    hugeDouble: dbl(1.7976931348623157e308),
    fraction: dbl(0.1 + 0.2),
    tsEpoch: ts('0', 0),
    tsMicros: ts('1705314645', 123456000),
    tsNanos: ts('1705314645', 123456789),
    tsYear1: ts('-62135596800', 0),
    tsYear9999: ts('253402300799', 999999000),
    emptyString: { stringValue: '' },
    unicode: { stringValue: 'é中😀\u0000\u{10FFFF} rtl:\u05D0' },
    longString: { stringValue: 'z'.repeat(100_000) },
    bytes: { bytesValue: Buffer.from([0, 1, 2, 253, 254, 255]) },
    emptyBytes: { bytesValue: Buffer.alloc(0) },
    ref: { referenceValue: `${sourceRoot}/users/alice/orders/o1` },
    foreignRef: { referenceValue: 'projects/other/databases/(default)/documents/x/y' },
    geo: { geoPointValue: { latitude: -89.999999, longitude: 179.5 } },
    geoZero: { geoPointValue: { latitude: -0, longitude: 0 } },
    emptyArray: { arrayValue: { values: [] } },
    emptyMap: { mapValue: { fields: {} } },
    mixedArray: {
      arrayValue: {
        values: [
          int('1'),
          dbl(1),
          { nullValue: 'NULL_VALUE' },
          { mapValue: { fields: { a: { arrayValue: { values: [] } } } } },
        ],
      },
    },
    vector: {
      mapValue: {
        fields: {
          __type__: { stringValue: '__vector__' },
          value: { arrayValue: { values: [dbl(1), dbl(-0.5), dbl(3)] } },
        },
      },
    },
    deep: nested(19),
    'dotted.name': { stringValue: 'a field name with a dot' },
    'with space': { stringValue: 'space' },
    'slash/name': { stringValue: 'slash' },
    'back`tick': { stringValue: 'tick' },
    'ünïcødé 名前': { stringValue: 'unicode name' },
    map: {
      mapValue: {
        fields: {
          'inner.dot': int('-5'),
          'inner space': dbl(-1.5),
          __proto__: { stringValue: 'not a prototype' },
        },
      },
    },
  };
}

describe.skipIf(!host)('Firestore fidelity: export → restore keeps every stored byte', () => {
  let source: FirestoreConnection;
  let target: FirestoreConnection;
  beforeAll(async () => {
    source = await openFirestore({ projectId: testProject('fidelity-src'), emulatorHost: host });
    target = await openFirestore({ projectId: testProject('fidelity-dst'), emulatorHost: host });
  });
  afterAll(async () => {
    await source?.close();
    await target?.close();
  });

  it('round-trips every value type, edge case and timestamp', async () => {
    const fields = everyValue(source.documentsRoot);
    const paths = ['types/all', 'users/alice/orders/o1', 'weird ids/dóc 1', 'weird ids/a.b'];
    await source.client.commit(
      {
        database: source.databaseName,
        writes: paths.map((p, i) => ({
          update: {
            name: `${source.documentsRoot}/${p}`,
            fields: i === 0 ? fields : { i: int(String(i)) },
          },
        })),
      },
      source.callOptions(),
    );
    const readTime = await chooseReadTime(source);
    const exported: FirestoreDocumentRecord[] = [];
    for await (const doc of exportDocuments(source, { readTime })) exported.push(doc);
    expect(exported.map((d) => d.path).sort()).toEqual([...paths].sort());

    // The archive form survives JSON (that is how it is stored).
    const archived = exported.map((d) => JSON.parse(JSON.stringify(d)) as FirestoreDocumentRecord);
    async function* replay(): AsyncGenerator<FirestoreDocumentRecord> {
      yield* archived;
    }
    const report = await restoreDocuments(target, replay(), {
      mode: 'create',
      sourceDocumentsRoot: source.documentsRoot,
    });
    expect(report).toMatchObject({ created: paths.length, failedCount: 0 });

    const before = await readAllRaw(source);
    const after = await readAllRaw(target);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [path, original] of before) {
      const record = exported.find((d) => d.path === path);
      expect(record?.createTime).toBe(timestampToString(original.createTime));
      expect(record?.updateTime).toBe(timestampToString(original.updateTime));
      const restored = after.get(path);
      const expected = canonical(original.fields).replaceAll(
        source.documentsRoot,
        target.documentsRoot,
      );
      // Field by field, for a readable failure…
      for (const name of Object.keys(original.fields ?? {})) {
        expect(canonical(restored?.fields?.[name]), `${path} field ${name}`).toBe(
          canonical(original.fields?.[name]).replaceAll(source.documentsRoot, target.documentsRoot),
        );
      }
      // …and as a whole, so that no extra field slips through.
      expect(canonical(restored?.fields)).toBe(expected);
    }

    // The edge cases really are stored as such (the test is not comparing two zeros).
    const stored = before.get('types/all')?.fields ?? {};
    expect((stored.int1 as ProtoValue).valueType).toBe('integerValue');
    expect((stored.double1 as ProtoValue).valueType).toBe('doubleValue');
    expect(Object.is(stored.negZero?.doubleValue, -0)).toBe(true);
    expect(String(stored.int64max?.integerValue)).toBe('9223372036854775807');
    const foreign = after.get('types/all')?.fields?.foreignRef?.referenceValue;
    expect(foreign).toBe('projects/other/databases/(default)/documents/x/y');
    expect(after.get('types/all')?.fields?.ref?.referenceValue).toBe(
      `${target.documentsRoot}/users/alice/orders/o1`,
    );

    // Timestamps in the archive form are the stored instants, to the last digit.
    const record = exported.find((d) => d.path === 'types/all');
    for (const name of ['tsEpoch', 'tsMicros', 'tsNanos', 'tsYear1', 'tsYear9999']) {
      expect(record?.fields[name]).toEqual({
        timestampValue: timestampToString(stored[name]?.timestampValue),
      });
    }
    expect(record?.fields.tsYear1).toEqual({ timestampValue: '0001-01-01T00:00:00.000000000Z' });
    expect(record?.fields.tsYear9999).toEqual({ timestampValue: '9999-12-31T23:59:59.999999000Z' });
    expect(record?.fields.tsMicros).toEqual({ timestampValue: '2024-01-15T10:30:45.123456000Z' });
  });
});
