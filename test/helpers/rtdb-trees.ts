import type { RtdbValue } from '../../src/engine/sources/rtdb/records.js';

/**
 * Depth 32 (the service's limit: /t…/deep/level 0…level 28/bottom), keys with every
 * allowed oddity, numbers, booleans, unicode, priorities.
 */
export function awkwardTree(): Record<string, RtdbValue> {
  let deep: RtdbValue = { bottom: 'deepest', n: -0.5 };
  for (let i = 28; i >= 0; i--) deep = { [`level ${i}`]: deep, [`i${i}`]: i };
  return {
    'per%cent ~tilde! bang': { 'a b': 'spaces', '¿qué?': 'ñ', '😀': '🚀 emoji' },
    numbers: {
      int: 42,
      neg: -7,
      float: 3.141592653589793,
      tiny: 5e-324,
      huge: 1.7976931348623157e308,
      big: 9007199254740991,
      exp: 1e21,
    },
    bools: { t: true, f: false },
    strings: { empty: '', quote: '"\'\\', newline: 'a\nb', zero: '0' },
    '10': 'ten',
    '2': 'two',
    '-1': 'minus one',
    deep,
    prio: {
      '.priority': 5,
      leaf: { '.value': 'with priority', '.priority': 'p' },
      child: { '.priority': 1.5, x: 1 },
    },
  };
}
