import type { RetentionPolicy } from '../../shared/schedules.js';

/**
 * Retention as a pure function: given the backups of one project on one destination
 * and a policy, say which to keep (and why) and which may go. Deleting is someone
 * else's job (prune.ts), so this is easy to test exhaustively.
 *
 * Semantics follow restic's `forget`: rules are unioned; a GFS rule with N keeps the
 * newest backup of each of the N most recent periods (days, ISO weeks, months) that
 * have a backup at all, so gaps (a machine that was off for a week) do not eat into the
 * count. Periods are calendar periods in `timeZone`, so "daily" matches the user's
 * days, not UTC's. Whatever the rules say, the newest good backup is always kept.
 */

export interface RetentionCandidate {
  id: string;
  createdAt: Date;
  /** False when the backup failed verification; it still counts for the rules. */
  good: boolean;
}

export type KeepReason = 'last' | 'daily' | 'weekly' | 'monthly' | 'newest-good';

export interface RetentionDecision {
  keep: { id: string; reasons: KeepReason[] }[];
  remove: { id: string }[];
}

export function applyRetention(
  backups: readonly RetentionCandidate[],
  policy: RetentionPolicy,
  timeZone = 'UTC',
): RetentionDecision {
  // Newest first; ties broken by id so the decision never depends on input order.
  const sorted = [...backups].sort(
    (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1),
  );
  const hasRules = Object.values(policy).some((v) => v !== undefined);
  const reasons = new Map<string, KeepReason[]>();
  const keep = (id: string, reason: KeepReason): void => {
    const list = reasons.get(id) ?? [];
    if (!list.includes(reason)) list.push(reason);
    reasons.set(id, list);
  };

  if (!hasRules) {
    // An empty policy is "keep everything": never delete because nothing was configured.
    return { keep: sorted.map((b) => ({ id: b.id, reasons: ['last'] })), remove: [] };
  }

  sorted.slice(0, policy.keepLast ?? 0).forEach((b) => keep(b.id, 'last'));

  const calendar = calendarIn(timeZone);
  const buckets: [KeepReason, number | undefined, (d: Date) => string][] = [
    ['daily', policy.keepDaily, (d) => calendar(d).day],
    ['weekly', policy.keepWeekly, (d) => calendar(d).week],
    ['monthly', policy.keepMonthly, (d) => calendar(d).month],
  ];
  for (const [reason, n, periodOf] of buckets) {
    if (!n) continue;
    const seen = new Set<string>();
    for (const b of sorted) {
      if (seen.size >= n) break;
      const period = periodOf(b.createdAt);
      if (seen.has(period)) continue;
      // Sorted newest first, so the first backup seen in a period is its newest.
      seen.add(period);
      keep(b.id, reason);
    }
  }

  const newestGood = sorted.find((b) => b.good);
  if (newestGood) keep(newestGood.id, 'newest-good');

  return {
    keep: sorted
      .filter((b) => reasons.has(b.id))
      .map((b) => ({ id: b.id, reasons: reasons.get(b.id)! })),
    remove: sorted.filter((b) => !reasons.has(b.id)).map((b) => ({ id: b.id })),
  };
}

interface CalendarKeys {
  day: string;
  week: string;
  month: string;
}

/** Calendar period keys of an instant as seen in `timeZone`. */
export function calendarIn(timeZone: string): (d: Date) => CalendarKeys {
  const format = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  });
  return (d) => {
    const parts = Object.fromEntries(format.formatToParts(d).map((p) => [p.type, p.value]));
    const y = Number(parts.year);
    const m = Number(parts.month);
    const day = Number(parts.day);
    const pad = (n: number): string => String(n).padStart(2, '0');
    return {
      day: `${y}-${pad(m)}-${pad(day)}`,
      week: isoWeek(y, m, day),
      month: `${y}-${pad(m)}`,
    };
  };
}

/** ISO-8601 week ("2024-W01") of a calendar date; weeks start on Monday. */
export function isoWeek(year: number, month: number, day: number): string {
  // Work on a UTC date purely as calendar arithmetic (the time zone was applied already).
  const date = new Date(Date.UTC(year, month - 1, day));
  const weekday = date.getUTCDay() || 7; // Monday=1 … Sunday=7
  // The Thursday of this week decides the ISO year.
  date.setUTCDate(date.getUTCDate() + 4 - weekday);
  const isoYear = date.getUTCFullYear();
  const firstDay = Date.UTC(isoYear, 0, 1);
  const week = Math.ceil(((date.getTime() - firstDay) / 86_400_000 + 1) / 7);
  return `${isoYear}-W${String(week).padStart(2, '0')}`;
}
