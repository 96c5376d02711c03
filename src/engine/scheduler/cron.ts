import cronParser from 'cron-parser';
import { AppError } from '../../shared/errors.js';

/**
 * Cron arithmetic with time zones, by node-schedule's own parser (cron-parser), so the
 * times we enumerate for catch-up are exactly the ones node-schedule fires at.
 */

function parse(cron: string, timeZone: string, currentDate: Date) {
  try {
    return cronParser.parseExpression(cron, { currentDate, tz: timeZone });
  } catch (cause) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `Invalid cron expression "${cron}": ${(cause as Error).message}. Use 5 fields "minute hour day-of-month month day-of-week", e.g. "0 2 * * *" for 02:00 every day.`,
      { cause },
    );
  }
}

/** Throws a helpful AppError if the expression or time zone is not valid. */
export function validateCron(cron: string, timeZone: string): void {
  parse(cron, timeZone, new Date());
}

/** The first occurrence strictly after `after`. */
export function nextOccurrence(cron: string, timeZone: string, after: Date): Date {
  return parse(cron, timeZone, after).next().toDate();
}

/**
 * Occurrences in (after, until], oldest first, at most `limit` (the newest `limit` when
 * there are more: after a month asleep we report the recent ones, not the first ones).
 * The second return value is the full count.
 */
export function occurrencesBetween(
  cron: string,
  timeZone: string,
  after: Date,
  until: Date,
  limit = 100,
): { occurrences: Date[]; total: number } {
  if (until.getTime() <= after.getTime()) return { occurrences: [], total: 0 };
  // Iterate with next() only: cron-parser's hasNext()/endDate invents extra occurrences
  // around DST changes (seen with Europe/Paris in March 2024).
  const it = parse(cron, timeZone, after);
  const out: Date[] = [];
  let total = 0;
  // A hard stop guards against expressions that fire every second over a long sleep.
  while (total < 1_000_000) {
    let d: Date;
    try {
      d = it.next().toDate();
    } catch {
      break; // no further occurrence (e.g. a date that never comes again)
    }
    if (d.getTime() > until.getTime()) break;
    if (d.getTime() <= after.getTime()) continue;
    total++;
    out.push(d);
    if (out.length > limit) out.shift();
  }
  return { occurrences: out, total };
}
