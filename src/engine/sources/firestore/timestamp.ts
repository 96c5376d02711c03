import { AppError } from '../../../shared/errors.js';
import type { ProtoTimestamp } from './protos.js';

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;
const MIN_SECONDS = -62135596800; // 0001-01-01T00:00:00Z
const MAX_SECONDS = 253402300799; // 9999-12-31T23:59:59Z

/**
 * {seconds, nanos} → "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ". Always nine fractional digits so
 * that nanoseconds survive and equal instants have equal strings.
 */
export function timestampToString(ts: ProtoTimestamp | null | undefined): string {
  const seconds = Number(String(ts?.seconds ?? 0));
  const nanos = ts?.nanos ?? 0;
  if (!Number.isSafeInteger(seconds) || seconds < MIN_SECONDS || seconds > MAX_SECONDS) {
    throw new AppError('INTERNAL', `Firestore returned a timestamp out of range (${seconds} s).`);
  }
  if (!Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999) {
    throw new AppError('INTERNAL', `Firestore returned a timestamp with invalid nanos (${nanos}).`);
  }
  // toISOString prints years 0001..9999 with four digits, which is all Firestore allows.
  const iso = new Date(seconds * 1000).toISOString();
  return `${iso.slice(0, 19)}.${String(nanos).padStart(9, '0')}Z`;
}

/** The inverse of timestampToString; seconds come back as a decimal string like gax's. */
export function timestampFromString(text: string): { seconds: string; nanos: number } {
  const m = RFC3339.exec(text);
  if (!m) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `"${text}" is not an RFC 3339 UTC timestamp (expected e.g. 2024-01-15T10:30:45.123456789Z).`,
    );
  }
  const [, y, mo, d, h, mi, s, frac = ''] = m;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0..99 to 1900..1999.
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  date.setUTCHours(Number(h), Number(mi), Number(s), 0);
  const ms = date.getTime();
  if (Number.isNaN(ms) || date.toISOString().slice(0, 19) !== text.slice(0, 19)) {
    throw new AppError('INVALID_ARGUMENT', `"${text}" is not a valid calendar date and time.`);
  }
  return { seconds: String(ms / 1000), nanos: Number(frac.padEnd(9, '0')) };
}
