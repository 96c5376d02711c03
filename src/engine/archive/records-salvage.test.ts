import { describe, expect, it } from 'vitest';
import { RecordParser, RecordType, encodeRecordPrefix } from './records.js';

const record = (value: unknown): Buffer => {
  const payload = Buffer.from(JSON.stringify(value));
  return Buffer.concat([encodeRecordPrefix(RecordType.FirestoreDocument, payload.length), payload]);
};
/** Accepts JSON objects with a string `path`, as the scanner accepts documents. */
const accept = (_type: RecordType, payload: Buffer): boolean => {
  try {
    return typeof (JSON.parse(payload.toString()) as { path?: unknown }).path === 'string';
  } catch {
    return false;
  }
};
const paths = (records: Iterable<{ payload: Buffer }>): string[] =>
  [...records].map((r) => (JSON.parse(r.payload.toString()) as { path: string }).path);

describe('RecordParser resynchronising after a gap (salvage)', () => {
  it('drops the record cut by the gap, skips a plausible prefix that is not a record, finds the next one across blocks', () => {
    const parser = new RecordParser(accept);
    const a = record({ path: 'c/a' });
    const cut = record({ path: 'c/cut', pad: 'x'.repeat(40) });
    expect(paths(parser.push(Buffer.concat([a, cut.subarray(0, 20)])))).toEqual(['c/a']);
    parser.gap();
    // After the gap: the tail of a lost record holding a fake prefix (type 2, length 3,
    // payload "abc": not a document), then a real record split over two blocks.
    const fake = Buffer.concat([
      encodeRecordPrefix(RecordType.FirestoreDocument, 3),
      Buffer.from('abc'),
    ]);
    const b = record({ path: 'c/b' });
    const c = record({ path: 'c/c' });
    const after = Buffer.concat([Buffer.from('tail"}'), fake, b, c]);
    const split = 6 + fake.length + 10;
    expect(paths(parser.push(after.subarray(0, split)))).toEqual([]);
    expect(paths(parser.push(after.subarray(split)))).toEqual(['c/b', 'c/c']);
    parser.end();
    expect(parser.droppedRecords).toBe(1);
    expect(parser.resyncBytes).toBe(20 + 6 + fake.length);
  });
});

describe('RecordParser resynchronising inside binary data (salvage)', () => {
  it('is not held by a plausible prefix in binary bytes that claims more than the rest of the archive', () => {
    // A gap inside a Storage object's content: what follows it is raw bytes, and raw
    // bytes can hold a known type and a length of up to 64 MiB. Waiting for that many
    // bytes read to the end and lost every record after the content.
    const parser = new RecordParser(accept);
    parser.gap();
    const binary = Buffer.alloc(300, 0xfe);
    encodeRecordPrefix(RecordType.AuthUser, 1 << 20).copy(binary, 100);
    const b = record({ path: 'c/b' });
    const c = record({ path: 'c/c' });
    const after = Buffer.concat([binary, b, c]);
    const got = [...parser.push(after.subarray(0, 200)), ...parser.push(after.subarray(200))];
    parser.end();
    expect(paths(got)).toEqual(['c/b', 'c/c']);
    expect(parser.resyncBytes).toBe(binary.length);
  });

  it('finds the records after a printable prefix that claims more than the rest of the archive', () => {
    // The prefix's own bytes could be JSON text, but a real record after it always brings
    // control bytes into view (its length's high byte is 0-3), which reject the candidate.
    const parser = new RecordParser(accept);
    parser.gap();
    const fake = Buffer.concat([
      encodeRecordPrefix(RecordType.AuthUser, 1 << 20),
      Buffer.from('{"not":"a record"'),
    ]);
    const b = record({ path: 'c/b' });
    const c = record({ path: 'c/c' });
    expect(paths(parser.push(Buffer.concat([fake, b, c])))).toEqual(['c/b', 'c/c']);
    parser.end();
    expect(parser.resyncBytes).toBe(fake.length);
  });
});
