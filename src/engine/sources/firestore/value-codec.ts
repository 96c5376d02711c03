/**
 * Wire `Value` protos (as the GAPIC client gives and takes them) ⇄ the archive encoding
 * `FirestoreValue` (src/shared/firestore.ts is the spec). Both directions are exact:
 * the proto's oneof says whether a number is an integer or a double, so we never guess.
 */
import { AppError } from '../../../shared/errors.js';
import type { EncodedDouble, FirestoreValue } from '../../../shared/firestore.js';
import type { ProtoValue } from './protos.js';
import { timestampFromString, timestampToString } from './timestamp.js';

type ValueKind = Exclude<keyof ProtoValue, 'valueType'>;

const KINDS: readonly ValueKind[] = [
  'nullValue',
  'booleanValue',
  'integerValue',
  'doubleValue',
  'timestampValue',
  'stringValue',
  'bytesValue',
  'referenceValue',
  'geoPointValue',
  'arrayValue',
  'mapValue',
];

/** Which oneof case is set: decoded messages say so in `valueType`; hand-built ones do not. */
function kindOf(value: ProtoValue): ValueKind {
  if (value.valueType) return value.valueType as ValueKind;
  for (const kind of KINDS) {
    if (value[kind] !== undefined && value[kind] !== null) return kind;
  }
  // proto3 decodes `nullValue: NULL_VALUE` (enum 0) to the default: a Value with nothing set.
  return 'nullValue';
}

export function encodeDouble(n: number): EncodedDouble {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  if (Object.is(n, -0)) return '-0';
  return n;
}

export function decodeDouble(d: EncodedDouble): number {
  switch (d) {
    case 'NaN':
      return NaN;
    case 'Infinity':
      return Infinity;
    case '-Infinity':
      return -Infinity;
    case '-0':
      return -0;
    default:
      return d;
  }
}

function bytesToBase64(bytes: Uint8Array | string): string {
  // With the `bytes: String` conversion option gax would already give base64.
  if (typeof bytes === 'string') return bytes;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Wire proto → archive encoding. */
export function fromProtoValue(value: ProtoValue): FirestoreValue {
  const kind = kindOf(value);
  switch (kind) {
    case 'nullValue':
      return { nullValue: null };
    case 'booleanValue':
      return { booleanValue: Boolean(value.booleanValue) };
    case 'integerValue':
      // string, number or Long (depending on the client's `longs` option): all print exactly.
      return { integerValue: String(value.integerValue ?? 0) };
    case 'doubleValue':
      return { doubleValue: encodeDouble(Number(value.doubleValue ?? 0)) };
    case 'timestampValue':
      return { timestampValue: timestampToString(value.timestampValue) };
    case 'stringValue':
      return { stringValue: value.stringValue ?? '' };
    case 'bytesValue':
      return { bytesValue: bytesToBase64(value.bytesValue ?? new Uint8Array()) };
    case 'referenceValue':
      return { referenceValue: value.referenceValue ?? '' };
    case 'geoPointValue':
      return {
        geoPointValue: {
          latitude: encodeDouble(value.geoPointValue?.latitude ?? 0),
          longitude: encodeDouble(value.geoPointValue?.longitude ?? 0),
        },
      };
    case 'arrayValue':
      return { arrayValue: { values: (value.arrayValue?.values ?? []).map(fromProtoValue) } };
    case 'mapValue':
      return { mapValue: { fields: fromProtoFields(value.mapValue?.fields) } };
    default:
      throw new AppError(
        'INTERNAL',
        `Firestore returned a value of unknown type "${String(kind)}"; this version of FireBackup cannot back it up. Please update FireBackup.`,
      );
  }
}

export function fromProtoFields(
  fields: Record<string, ProtoValue> | null | undefined,
): Record<string, FirestoreValue> {
  const out: Record<string, FirestoreValue> = {};
  if (!fields) return out;
  for (const name of Object.keys(fields)) {
    // Object.keys + a null-prototype-safe assignment: field names may be "__proto__".
    Object.defineProperty(out, name, {
      value: fromProtoValue(fields[name] as ProtoValue),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

export interface ToProtoOptions {
  /** Rewrites reference values (e.g. from the source project/database to the target). */
  mapReference?: (name: string) => string;
}

/** Archive encoding → wire proto, ready for commit/batchWrite. */
export function toProtoValue(value: FirestoreValue, options: ToProtoOptions = {}): ProtoValue {
  if ('nullValue' in value) return { nullValue: 'NULL_VALUE' };
  if ('booleanValue' in value) return { booleanValue: value.booleanValue };
  if ('integerValue' in value) {
    if (!/^-?\d+$/.test(value.integerValue)) {
      throw new AppError('INVALID_ARGUMENT', `"${value.integerValue}" is not an integer value.`);
    }
    return { integerValue: value.integerValue };
  }
  if ('doubleValue' in value) return { doubleValue: decodeDouble(value.doubleValue) };
  if ('timestampValue' in value) {
    return { timestampValue: timestampFromString(value.timestampValue) };
  }
  if ('stringValue' in value) return { stringValue: value.stringValue };
  if ('bytesValue' in value) return { bytesValue: Buffer.from(value.bytesValue, 'base64') };
  if ('referenceValue' in value) {
    const name = value.referenceValue;
    return { referenceValue: options.mapReference ? options.mapReference(name) : name };
  }
  if ('geoPointValue' in value) {
    return {
      geoPointValue: {
        latitude: decodeDouble(value.geoPointValue.latitude),
        longitude: decodeDouble(value.geoPointValue.longitude),
      },
    };
  }
  if ('arrayValue' in value) {
    return { arrayValue: { values: value.arrayValue.values.map((v) => toProtoValue(v, options)) } };
  }
  if ('mapValue' in value) {
    return { mapValue: { fields: toProtoFields(value.mapValue.fields, options) } };
  }
  throw new AppError(
    'INVALID_ARGUMENT',
    `The archive holds a value of unknown type (${Object.keys(value).join(', ')}); it may come from a newer FireBackup.`,
  );
}

export function toProtoFields(
  fields: Record<string, FirestoreValue>,
  options: ToProtoOptions = {},
): Record<string, ProtoValue> {
  const out: Record<string, ProtoValue> = {};
  for (const name of Object.keys(fields)) {
    Object.defineProperty(out, name, {
      value: toProtoValue(fields[name] as FirestoreValue, options),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
