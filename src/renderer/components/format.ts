/** Display formatting shared by every screen (pure; tested in format.test.ts). */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

// One formatter each, made once: toLocaleString builds a new Intl formatter on every call,
// which long lists (the Backups screen's rows, on every scroll frame) pay per row.
const COUNT = new Intl.NumberFormat('en-US');
const DATE_TIME = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
});

export function formatCount(n: number): string {
  return Number.isFinite(n) ? COUNT.format(Math.round(n)) : '—';
}

/** A timestamp in the reader's locale and time zone (as Date.toLocaleString shows it). */
export function formatDateTime(iso: string): string {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? DATE_TIME.format(t) : '—';
}

/** "1 h 2 min", "3 min 5 s", "42 s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${rest} s`;
  return `${rest} s`;
}

export function formatRate(perSecond: number, unit: string): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '—';
  return `${formatCount(perSecond)} ${unit}/s`;
}

/** Share done in [0, 1], or undefined when the total is unknown. */
export function fractionDone(done: number, total: number | undefined): number | undefined {
  if (total === undefined || total <= 0) return undefined;
  return Math.min(1, Math.max(0, done / total));
}
