import type { Run } from '../../shared/jobs.js';

/**
 * Notifications: a small interface so the daemon can post to a webhook and the desktop
 * app can show a system notification, from the same scheduler code.
 */
export type NotificationKind = 'run.failed' | 'run.missed' | 'run.succeeded' | 'key.rotated';

export interface Notification {
  kind: NotificationKind;
  /** One line for people: what happened and, on failure, what to do. */
  message: string;
  schedule: { id: string; name: string } | null;
  project: { id: string; name: string } | null;
  run: Run;
  /** For missed runs: how many occurrences were missed and the most recent ones. */
  missed?: { count: number; occurrences: string[] };
  at: string;
}

export interface Notifier {
  notify(notification: Notification): Promise<void>;
}

/** Sends to several notifiers; one failing does not stop the others. */
export function combineNotifiers(
  notifiers: Notifier[],
  onError?: (error: unknown) => void,
): Notifier {
  return {
    async notify(n) {
      const results = await Promise.allSettled(notifiers.map((x) => x.notify(n)));
      for (const r of results) if (r.status === 'rejected') onError?.(r.reason);
    },
  };
}

/** Collects notifications (tests, and the GUI's in-app list). */
export class MemoryNotifier implements Notifier {
  readonly sent: Notification[] = [];
  async notify(n: Notification): Promise<void> {
    this.sent.push(n);
  }
}
