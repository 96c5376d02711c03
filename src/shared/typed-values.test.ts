import { describe, expect, it } from 'vitest';
import { FirestoreDocumentSchema, formatValue, valueRows, valueType } from './typed-values.js';

describe('typed values for display', () => {
  it('shows every scalar exactly', () => {
    expect(formatValue({ integerValue: '9223372036854775807' })).toBe('9223372036854775807');
    expect(formatValue({ doubleValue: '-0' })).toBe('-0');
    expect(formatValue({ doubleValue: -0 })).toBe('-0');
    expect(formatValue({ doubleValue: 'NaN' })).toBe('NaN');
    expect(formatValue({ doubleValue: '-Infinity' })).toBe('-Infinity');
    expect(formatValue({ doubleValue: 3 })).toBe('3.0');
    expect(formatValue({ doubleValue: 0.1 })).toBe('0.1');
    expect(formatValue({ timestampValue: '2023-11-14T22:13:20.123456789Z' })).toBe(
      '2023-11-14T22:13:20.123456789Z',
    );
    expect(formatValue({ bytesValue: 'AAH+/w==' })).toBe('4 bytes: 00 01 fe ff');
    expect(formatValue({ bytesValue: '' })).toBe('0 bytes');
    expect(formatValue({ geoPointValue: { latitude: 48.8566, longitude: 'NaN' } })).toBe(
      '48.8566, NaN',
    );
    expect(
      formatValue({ referenceValue: 'projects/p/databases/(default)/documents/users/alice' }),
    ).toBe('users/alice');
    expect(formatValue({ stringValue: 'a"b' })).toBe('"a\\"b"');
    expect(formatValue({ nullValue: null })).toBe('null');
  });

  it('tells vectors from maps and flattens nested values into rows', () => {
    const vector = {
      mapValue: {
        fields: {
          __type__: { stringValue: '__vector__' },
          value: { arrayValue: { values: [{ doubleValue: 1 }, { doubleValue: 2 }] } },
        },
      },
    };
    expect(valueType(vector)).toBe('vector');
    expect(formatValue(vector)).toBe('vector of 2');
    const rows = valueRows({
      b: { arrayValue: { values: [{ booleanValue: true }] } },
      a: { mapValue: { fields: { z: { nullValue: null }, y: { integerValue: '1' } } } },
      r: { referenceValue: 'projects/p/databases/(default)/documents/x/1' },
      v: vector,
    });
    expect(rows.map((r) => [r.path, r.depth, r.type])).toEqual([
      ['a', 0, 'map'],
      ['a.y', 1, 'integer'],
      ['a.z', 1, 'null'],
      ['b', 0, 'array'],
      ['b[0]', 1, 'boolean'],
      ['r', 0, 'reference'],
      ['v', 0, 'vector'],
    ]);
    expect(rows.find((r) => r.path === 'r')!.reference).toBe('x/1');
  });

  it('validates documents crossing the contract', () => {
    const doc = {
      path: 'a/b',
      createTime: 't',
      updateTime: 't',
      fields: { n: { integerValue: '12' }, d: { doubleValue: 'Infinity' } },
    };
    expect(FirestoreDocumentSchema.safeParse(doc).success).toBe(true);
    expect(
      FirestoreDocumentSchema.safeParse({ ...doc, fields: { n: { integerValue: 12 } } }).success,
    ).toBe(false);
  });
});
