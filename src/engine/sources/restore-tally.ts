/** The counts every source's restore reports (Auth users, Storage objects). */

/** Failures listed by name; `failedCount` has them all. */
export const MAX_LISTED_FAILURES = 100;

export interface RestorePlan {
  create: number;
  overwrite: number;
  skip: number;
}

export interface RestoreTally<F> {
  created: number;
  overwritten: number;
  /** Create mode: items that already existed and were left alone. */
  skipped: number;
  failed: F[];
  failedCount: number;
  /** Dry run only: what a real run would do. */
  planned?: RestorePlan;
}

export function emptyTally<F>(dryRun?: boolean): RestoreTally<F> {
  return {
    created: 0,
    overwritten: 0,
    skipped: 0,
    failed: [],
    failedCount: 0,
    ...(dryRun ? { planned: { create: 0, overwrite: 0, skip: 0 } } : {}),
  };
}

export function noteFailure<F>(tally: RestoreTally<F>, failure: F): void {
  tally.failedCount++;
  if (tally.failed.length < MAX_LISTED_FAILURES) tally.failed.push(failure);
}

/** Adds `from`'s counts into `into` (one restore made of several runs). */
export function addTally<F>(into: RestoreTally<F>, from: RestoreTally<F>): void {
  into.created += from.created;
  into.overwritten += from.overwritten;
  into.skipped += from.skipped;
  into.failedCount += from.failedCount - from.failed.length;
  for (const f of from.failed) noteFailure(into, f);
  if (into.planned && from.planned) {
    into.planned.create += from.planned.create;
    into.planned.overwrite += from.planned.overwrite;
    into.planned.skip += from.planned.skip;
  }
}
