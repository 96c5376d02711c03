import { z } from 'zod';
import type { EncodedDouble, FirestoreDocumentRecord, FirestoreValue } from './firestore.js';

/**
 * The archive's typed value encoding (./firestore.ts) is already JSON-safe and exact:
 * int64 as decimal strings, NaN/±Infinity/-0 as strings, timestamps with nine fractional
 * digits, bytes as base64, references as resource names. So documents cross the contract
 * in that very form (validated here), and these pure helpers turn a value into what a
 * screen shows, without ever going through a JS number where precision would be lost.
 */

const encodedDouble = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity', '-0'])]);

export const FirestoreValueSchema: z.ZodType<FirestoreValue> = z.lazy(() =>
  z.union([
    z.object({ nullValue: z.null() }).strict(),
    z.object({ booleanValue: z.boolean() }).strict(),
    z.object({ integerValue: z.string().regex(/^-?\d+$/) }).strict(),
    z.object({ doubleValue: encodedDouble }).strict(),
    z.object({ timestampValue: z.string() }).strict(),
    z.object({ stringValue: z.string() }).strict(),
    z.object({ bytesValue: z.string() }).strict(),
    z.object({ referenceValue: z.string() }).strict(),
    z
      .object({ geoPointValue: z.object({ latitude: encodedDouble, longitude: encodedDouble }) })
      .strict(),
    z.object({ arrayValue: z.object({ values: z.array(FirestoreValueSchema) }) }).strict(),
    z.object({ mapValue: z.object({ fields: z.record(FirestoreValueSchema) }) }).strict(),
  ]),
) as z.ZodType<FirestoreValue>;

export const FirestoreDocumentSchema: z.ZodType<FirestoreDocumentRecord> = z.object({
  path: z.string(),
  createTime: z.string(),
  updateTime: z.string(),
  fields: z.record(FirestoreValueSchema),
});

/** The type names a document viewer shows, one per Firestore value type (vector included). */
export type ValueType =
  | 'null'
  | 'boolean'
  | 'integer'
  | 'double'
  | 'timestamp'
  | 'string'
  | 'bytes'
  | 'reference'
  | 'geopoint'
  | 'array'
  | 'map'
  | 'vector';

export function valueType(v: FirestoreValue): ValueType {
  if ('nullValue' in v) return 'null';
  if ('booleanValue' in v) return 'boolean';
  if ('integerValue' in v) return 'integer';
  if ('doubleValue' in v) return 'double';
  if ('timestampValue' in v) return 'timestamp';
  if ('stringValue' in v) return 'string';
  if ('bytesValue' in v) return 'bytes';
  if ('referenceValue' in v) return 'reference';
  if ('geoPointValue' in v) return 'geopoint';
  if ('arrayValue' in v) return 'array';
  return isVector(v.mapValue.fields) ? 'vector' : 'map';
}

/** Firestore stores a vector as a map { __type__: "__vector__", value: [doubles] }. */
function isVector(fields: Record<string, FirestoreValue>): boolean {
  const t = fields.__type__;
  return t !== undefined && 'stringValue' in t && t.stringValue === '__vector__';
}

/** A double as typed: "-0", "NaN", "Infinity" stay visible; others in shortest exact form. */
export function formatDouble(d: EncodedDouble): string {
  if (typeof d === 'string') return d;
  if (Object.is(d, -0)) return '-0';
  // Always show it is a double, so 1.0 is not mistaken for the integer 1.
  return Number.isInteger(d) && Math.abs(d) < 1e21 ? `${d}.0` : String(d);
}

/** Decoded length of standard base64, without decoding (works for large values). */
export function base64Length(b64: string): number {
  const padding = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  return Math.floor((b64.length * 3) / 4) - padding;
}

/** Base64 → hex, for the first `maxBytes` bytes (a preview of a bytes value). */
export function base64ToHex(b64: string, maxBytes = 32): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const out: string[] = [];
  let buffer = 0;
  let bits = 0;
  for (const ch of b64) {
    if (ch === '=') break;
    const v = alphabet.indexOf(ch);
    if (v < 0) continue;
    buffer = (buffer << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push(((buffer >> bits) & 0xff).toString(16).padStart(2, '0'));
      if (out.length >= maxBytes) break;
    }
  }
  return out.join(' ');
}

/** The part of a reference after ".../documents/": the path a browser can open. */
export function referencePath(resourceName: string): string {
  const at = resourceName.indexOf('/documents/');
  return at < 0 ? resourceName : resourceName.slice(at + '/documents/'.length);
}

/**
 * One line of text for a scalar value, exact (no rounding, nanoseconds kept); arrays,
 * maps and vectors get a short summary (their children are shown one per row).
 */
export function formatValue(v: FirestoreValue): string {
  if ('nullValue' in v) return 'null';
  if ('booleanValue' in v) return String(v.booleanValue);
  if ('integerValue' in v) return v.integerValue;
  if ('doubleValue' in v) return formatDouble(v.doubleValue);
  if ('timestampValue' in v) return v.timestampValue;
  if ('stringValue' in v) return JSON.stringify(v.stringValue);
  if ('bytesValue' in v) {
    const n = base64Length(v.bytesValue);
    const hex = base64ToHex(v.bytesValue, 16);
    return `${n} byte${n === 1 ? '' : 's'}${n ? `: ${hex}${n > 16 ? ' …' : ''}` : ''}`;
  }
  if ('referenceValue' in v) return referencePath(v.referenceValue);
  if ('geoPointValue' in v) {
    const { latitude, longitude } = v.geoPointValue;
    return `${formatDouble(latitude)}, ${formatDouble(longitude)}`;
  }
  if ('arrayValue' in v) {
    const n = v.arrayValue.values.length;
    return `${n} item${n === 1 ? '' : 's'}`;
  }
  if (isVector(v.mapValue.fields)) {
    const arr = v.mapValue.fields.value;
    const n = arr && 'arrayValue' in arr ? arr.arrayValue.values.length : 0;
    return `vector of ${n}`;
  }
  const n = Object.keys(v.mapValue.fields).length;
  return `${n} field${n === 1 ? '' : 's'}`;
}

/** One row of a document viewer's tree: a field (or array item) at some depth. */
export interface ValueRow {
  /** Field path as the user reads it: "address.city", "tags[2]". */
  path: string;
  /** The field name or `[index]` shown on the row. */
  label: string;
  depth: number;
  type: ValueType;
  text: string;
  /** Set on references: the document path to open. */
  reference?: string;
}

/** Flattens a document's fields into rows (map keys sorted, as Firestore orders them). */
export function valueRows(fields: Record<string, FirestoreValue>): ValueRow[] {
  const rows: ValueRow[] = [];
  const visit = (label: string, path: string, v: FirestoreValue, depth: number): void => {
    const type = valueType(v);
    rows.push({
      path,
      label,
      depth,
      type,
      text: formatValue(v),
      ...('referenceValue' in v ? { reference: referencePath(v.referenceValue) } : {}),
    });
    if ('arrayValue' in v) {
      v.arrayValue.values.forEach((item, i) => visit(`[${i}]`, `${path}[${i}]`, item, depth + 1));
    } else if ('mapValue' in v && type === 'map') {
      for (const key of Object.keys(v.mapValue.fields).sort())
        visit(key, `${path}.${key}`, v.mapValue.fields[key]!, depth + 1);
    }
  };
  for (const key of Object.keys(fields).sort()) visit(key, key, fields[key]!, 0);
  return rows;
}
