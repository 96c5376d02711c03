import type { AuditEntry } from './audit.js';

/**
 * The audit log as files an admin downloads: NDJSON (one entry per line, exactly the
 * guide's JSON format plus its chain position) and CSV for spreadsheets.
 */
export type ExportedEntry = AuditEntry & { seq: number; hash: string };

export function toNdjson(entries: readonly ExportedEntry[]): string {
  return entries.map((e) => `${JSON.stringify(e)}\n`).join('');
}

export const CSV_COLUMNS = [
  'seq',
  'timestamp',
  'level',
  'event',
  'actor_id',
  'actor_email',
  'actor_ip',
  'resource_type',
  'resource_id',
  'organization',
  'metadata',
  'hash',
] as const;

/**
 * One CSV field (RFC 4180 quoting). A value a spreadsheet would run as a formula (=, +, -,
 * @, tab, CR at its start) gets a leading apostrophe: entries hold user-chosen text such as
 * names, and opening an export must never execute it.
 */
export function csvField(value: unknown): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(entries: readonly ExportedEntry[]): string {
  const rows = entries.map((e) =>
    [
      e.seq,
      e.timestamp,
      e.level,
      e.event,
      e.actor.id,
      e.actor.email,
      e.actor.ip,
      e.resource.type,
      e.resource.id,
      e.organization,
      JSON.stringify(e.metadata),
      e.hash,
    ]
      .map(csvField)
      .join(','),
  );
  return `${[CSV_COLUMNS.join(','), ...rows].join('\r\n')}\r\n`;
}
