import { describe, expect, it } from 'vitest';
import { mergeMask } from './restore.js';

describe('mergeMask (the deep merge of restore --mode merge)', () => {
  it('names every leaf; maps merge key by key; arrays, empty maps and vectors are whole values', () => {
    expect(
      mergeMask({
        a: { integerValue: '1' },
        nested: {
          mapValue: {
            fields: {
              p: { stringValue: 'x' },
              deeper: { mapValue: { fields: { 'odd.name': { booleanValue: true } } } },
            },
          },
        },
        list: { arrayValue: { values: [{ integerValue: '1' }] } },
        empty: { mapValue: { fields: {} } },
        vec: {
          mapValue: {
            fields: {
              __type__: { stringValue: '__vector__' },
              value: { arrayValue: { values: [{ doubleValue: 1 }] } },
            },
          },
        },
      }),
    ).toEqual(['a', 'nested.p', 'nested.deeper.`odd.name`', 'list', 'empty', 'vec']);
  });
});
