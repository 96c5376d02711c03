/**
 * The lossless typed encoding of Firestore values, as stored in archives and written by
 * `restore --to-dir`. It is the Firestore REST `Value` JSON (proto3 JSON mapping) with
 * the cases plain JSON cannot carry made explicit:
 *
 * - integerValue: a decimal string (int64 exact beyond 2^53);
 * - doubleValue: a JSON number, or one of the strings "NaN", "Infinity", "-Infinity",
 *   "-0" (JSON.stringify(-0) would print 0);
 * - timestampValue: RFC 3339 UTC with exactly nine fractional digits
 *   ("2024-01-15T10:30:45.123456789Z"), so nanoseconds survive;
 * - bytesValue: standard base64;
 * - referenceValue: the full resource name
 *   ("projects/p/databases/(default)/documents/users/alice");
 * - geoPointValue: { latitude, longitude }, each a double as above;
 * - Vector values are maps ({ "__type__": "__vector__", "value": [doubles] }) exactly as
 *   Firestore stores them, so they need no case of their own.
 *
 * See docs/design.md, "Record encoding".
 */
export type EncodedDouble = number | 'NaN' | 'Infinity' | '-Infinity' | '-0';

export type FirestoreValue =
  | { nullValue: null }
  | { booleanValue: boolean }
  | { integerValue: string }
  | { doubleValue: EncodedDouble }
  | { timestampValue: string }
  | { stringValue: string }
  | { bytesValue: string }
  | { referenceValue: string }
  | { geoPointValue: { latitude: EncodedDouble; longitude: EncodedDouble } }
  | { arrayValue: { values: FirestoreValue[] } }
  | { mapValue: { fields: Record<string, FirestoreValue> } };

/** One Firestore document as it is stored in an archive (record type 2). */
export interface FirestoreDocumentRecord {
  /** Path relative to the database's document root: "users/alice/orders/1". */
  path: string;
  /** RFC 3339 with nine fractional digits, as timestampValue. */
  createTime: string;
  updateTime: string;
  fields: Record<string, FirestoreValue>;
}
