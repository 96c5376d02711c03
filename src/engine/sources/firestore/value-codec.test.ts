import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FirestoreValue } from '../../../shared/firestore.js';
import { timestampFromString, timestampToString } from './timestamp.js';
import { fromProtoValue, toProtoFields, toProtoValue, fromProtoFields } from './value-codec.js';

describe('timestamps', () => {
  it.each([
    [{ seconds: '-62135596800', nanos: 0 }, '0001-01-01T00:00:00.000000000Z'],
    [{ seconds: '253402300799', nanos: 999999999 }, '9999-12-31T23:59:59.999999999Z'],
    [{ seconds: '0', nanos: 1 }, '1970-01-01T00:00:00.000000001Z'],
    [{ seconds: '-1', nanos: 999999999 }, '1969-12-31T23:59:59.999999999Z'],
    [{ seconds: '1705314645', nanos: 123456789 }, '2024-01-15T10:30:45.123456789Z'],
  ])('%o ⇄ %s', (ts, text) => {
    expect(timestampToString(ts)).toBe(text);
    expect(timestampFromString(text)).toEqual(ts);
  });

  it('accepts Long-like and number seconds', () => {
    expect(timestampToString({ seconds: { toString: () => '0' } as never, nanos: 5 })).toBe(
      '1970-01-01T00:00:00.000000005Z',
    );
    expect(timestampToString({ seconds: 86400 })).toBe('1970-01-02T00:00:00.000000000Z');
  });

  it('reads fewer fractional digits, years below 100 and rejects garbage', () => {
    expect(timestampFromString('0050-06-01T00:00:00.5Z').nanos).toBe(500_000_000);
    expect(timestampToString(timestampFromString('0050-06-01T00:00:00.5Z'))).toBe(
      '0050-06-01T00:00:00.500000000Z',
    );
    expect(() => timestampFromString('2024-02-30T00:00:00Z')).toThrow(/not a valid calendar/);
    expect(() => timestampFromString('yesterday')).toThrow(/RFC 3339/);
  });
});

describe('value codec: edge cases', () => {
  const cases: [string, Record<string, unknown>, FirestoreValue][] = [
    [
      'null (as gax decodes it)',
      { nullValue: 'NULL_VALUE', valueType: 'nullValue' },
      { nullValue: null },
    ],
    ['null (default enum, nothing set)', {}, { nullValue: null }],
    ['false', { booleanValue: false, valueType: 'booleanValue' }, { booleanValue: false }],
    ['integer 1', { integerValue: '1', valueType: 'integerValue' }, { integerValue: '1' }],
    ['double 1.0', { doubleValue: 1, valueType: 'doubleValue' }, { doubleValue: 1 }],
    [
      'int64 max (string)',
      { integerValue: '9223372036854775807' },
      { integerValue: '9223372036854775807' },
    ],
    [
      'int64 min (Long-like)',
      { integerValue: { toString: () => '-9223372036854775808' } },
      { integerValue: '-9223372036854775808' },
    ],
    ['integer 0 as number', { integerValue: 0, valueType: 'integerValue' }, { integerValue: '0' }],
    ['NaN', { doubleValue: NaN }, { doubleValue: 'NaN' }],
    ['Infinity', { doubleValue: Infinity }, { doubleValue: 'Infinity' }],
    ['-Infinity', { doubleValue: -Infinity }, { doubleValue: '-Infinity' }],
    ['-0', { doubleValue: -0, valueType: 'doubleValue' }, { doubleValue: '-0' }],
    ['0.0', { doubleValue: 0, valueType: 'doubleValue' }, { doubleValue: 0 }],
    ['bytes', { bytesValue: Buffer.from([0, 255, 1]) }, { bytesValue: 'AP8B' }],
    ['empty bytes', { bytesValue: Buffer.alloc(0), valueType: 'bytesValue' }, { bytesValue: '' }],
    ['empty string', { stringValue: '', valueType: 'stringValue' }, { stringValue: '' }],
    ['unicode', { stringValue: 'é😀\u0000中' }, { stringValue: 'é😀\u0000中' }],
    [
      'reference',
      { referenceValue: 'projects/p/databases/(default)/documents/a/b' },
      { referenceValue: 'projects/p/databases/(default)/documents/a/b' },
    ],
    [
      'geo',
      { geoPointValue: { latitude: -90, longitude: 180 } },
      { geoPointValue: { latitude: -90, longitude: 180 } },
    ],
    [
      'geo -0',
      { geoPointValue: { latitude: -0, longitude: 0 } },
      { geoPointValue: { latitude: '-0', longitude: 0 } },
    ],
    ['empty array', { arrayValue: {}, valueType: 'arrayValue' }, { arrayValue: { values: [] } }],
    ['empty map', { mapValue: {}, valueType: 'mapValue' }, { mapValue: { fields: {} } }],
    [
      'vector',
      {
        mapValue: {
          fields: {
            __type__: { stringValue: '__vector__' },
            value: { arrayValue: { values: [{ doubleValue: 1 }, { doubleValue: 0.5 }] } },
          },
        },
      },
      {
        mapValue: {
          fields: {
            __type__: { stringValue: '__vector__' },
            value: { arrayValue: { values: [{ doubleValue: 1 }, { doubleValue: 0.5 }] } },
          },
        },
      },
    ],
  ];

  it.each(cases)('%s', (_name, proto, encoded) => {
    const decoded = fromProtoValue(proto);
    expect(decoded).toEqual(encoded);
    // -0 and NaN must be spelled out: JSON cannot carry them as numbers.
    expect(JSON.parse(JSON.stringify(decoded))).toEqual(encoded);
    expect(fromProtoValue(toProtoValue(encoded))).toEqual(encoded);
  });

  it('keeps 1 and 1.0 apart on the way back to the wire', () => {
    expect(toProtoValue({ integerValue: '1' })).toEqual({ integerValue: '1' });
    expect(toProtoValue({ doubleValue: 1 })).toEqual({ doubleValue: 1 });
    expect(Object.is(toProtoValue({ doubleValue: '-0' }).doubleValue, -0)).toBe(true);
  });

  it('keeps odd field names, including __proto__, dots, spaces and slashes', () => {
    const fields = JSON.parse(
      '{"__proto__":{"stringValue":"x"},"a.b":{"integerValue":"2"},"with space":{"nullValue":null},"a/b":{"booleanValue":true},"`tick`":{"stringValue":""}}',
    ) as Record<string, FirestoreValue>;
    const back = fromProtoFields(toProtoFields(fields));
    expect(Object.keys(back)).toEqual(Object.keys(fields));
    expect(back).toEqual(fields);
  });

  it('rewrites references only through mapReference', () => {
    const v: FirestoreValue = {
      arrayValue: { values: [{ referenceValue: 'projects/a/databases/(default)/documents/x/1' }] },
    };
    const out = toProtoValue(v, { mapReference: (n) => n.replace('projects/a/', 'projects/b/') });
    expect(out.arrayValue?.values?.[0]?.referenceValue).toBe(
      'projects/b/databases/(default)/documents/x/1',
    );
  });

  it('rejects malformed integers and unknown kinds', () => {
    expect(() => toProtoValue({ integerValue: '1.5' })).toThrow(/not an integer/);
    expect(() => toProtoValue({ fooValue: 1 } as unknown as FirestoreValue)).toThrow(
      /unknown type/,
    );
  });
});

/** Arbitrary canonical archive values: exactly what fromProtoValue can produce. */
const doubleArb = fc.double().map((d) => fromProtoValue({ doubleValue: d }));
const timestampArb = fc
  .record({
    seconds: fc.integer({ min: -62135596800, max: 253402300799 }),
    nanos: fc.integer({ min: 0, max: 999_999_999 }),
  })
  .map(({ seconds, nanos }) => timestampToString({ seconds: String(seconds), nanos }));
const fieldNameArb = fc.oneof(fc.string(), fc.constantFrom('__proto__', 'a.b', 'a b', 'a/b', '`'));

const { value: valueArb } = fc.letrec<{ value: FirestoreValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant({ nullValue: null }),
    fc.boolean().map((b) => ({ booleanValue: b })),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((i) => ({ integerValue: String(i) })),
    doubleArb,
    timestampArb.map((t) => ({ timestampValue: t })),
    fc.string({ unit: 'binary' }).map((s) => ({ stringValue: s })),
    fc.uint8Array().map((b) => ({ bytesValue: Buffer.from(b).toString('base64') })),
    fc.array(fc.stringMatching(/^[a-z0-9]{1,8}$/), { minLength: 1, maxLength: 4 }).map((ids) => ({
      referenceValue: `projects/p/databases/(default)/documents/c/${ids.join('/c/')}`,
    })),
    fc.record({ latitude: doubleArb, longitude: doubleArb }).map((g) => ({
      geoPointValue: {
        latitude: 'doubleValue' in g.latitude ? g.latitude.doubleValue : 0,
        longitude: 'doubleValue' in g.longitude ? g.longitude.doubleValue : 0,
      },
    })),
    fc.array(tie('value'), { maxLength: 4 }).map((values) => ({ arrayValue: { values } })),
    fc
      .dictionary(fieldNameArb, tie('value'), { maxKeys: 4 })
      .map((fields) => ({ mapValue: { fields } })),
  ),
}));

describe('value codec: properties', () => {
  it('archive value → wire proto → archive value is the identity (and survives JSON)', () => {
    fc.assert(
      fc.property(valueArb, (value) => {
        const json = JSON.parse(JSON.stringify(value)) as FirestoreValue;
        expect(fromProtoValue(toProtoValue(json))).toEqual(value);
      }),
      { numRuns: 2000 },
    );
  });
});
