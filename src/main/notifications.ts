/**
 * Engine notifications (the scheduler's Notifier interface, the same one the daemon's
 * webhook implements) → desktop notifications. `desktopNotification` is the pure part:
 * which events deserve one, what it says, and which screen a click opens.
 */
import type { Notification, Notifier } from '../engine/notify/notifier.js';
import { appRoute } from '../shared/routes.js';
import type { Settings } from '../shared/settings.js';

/** Which notification setting (Settings screen) governs it; null: always shown. */
export type NotificationCategory = keyof Settings['notifications'] | null;

export interface DesktopNotification {
  title: string;
  body: string;
  /** The renderer route a click opens. */
  route: string;
  /** Stays on screen until dismissed (a failure the person must act on). */
  urgent: boolean;
  category: NotificationCategory;
}

/** Errors that mean the keys at hand cannot read a destination's backups. */
const KEY_CODES = new Set(['KEY_INVALID', 'KEY_NOT_FOUND']);

export function desktopNotification(n: Notification): DesktopNotification | undefined {
  const project = n.project?.name;
  const runRoute = appRoute('history', { run: n.run.id });
  switch (n.kind) {
    case 'run.failed':
      if (n.run.error && KEY_CODES.has(n.run.error.code)) {
        return {
          title: 'A key cannot read these backups',
          body: `${project ? `${project}: ` : ''}${n.run.error.message} Open Keys to import the key that wrote them.`,
          route: appRoute('keys', { destination: n.run.destinationId ?? undefined }),
          urgent: true,
          category: 'keyProblems',
        };
      }
      return {
        title: `Backup failed${project ? `: ${project}` : ''}`,
        body: n.message,
        route: runRoute,
        urgent: true,
        category: 'failedRuns',
      };
    case 'run.missed':
      return {
        title: `Missed run${project ? `: ${project}` : ''}`,
        body: n.message,
        route: runRoute,
        urgent: false,
        category: 'missedRuns',
      };
    case 'key.rotated':
      return {
        title: 'New encryption key in use',
        body: `${n.message} Save its recovery kit.`,
        route: appRoute('keys'),
        urgent: false,
        category: null,
      };
    case 'run.succeeded':
      // Only sent when a schedule asks for it (notifyOnSuccess). A new backup opens on
      // the Backups screen; anything else (a verify) opens its run.
      return {
        title: `Backup finished${project ? `: ${project}` : ''}`,
        body: n.message,
        route:
          n.run.backupId && n.run.destinationId
            ? appRoute('backups', { destination: n.run.destinationId, backup: n.run.backupId })
            : runRoute,
        urgent: false,
        category: null,
      };
  }
}

/** What the Electron adapter does with one (Notification.show, click → open the route). */
export type ShowNotification = (n: DesktopNotification) => void;

/**
 * The scheduler's Notifier for the desktop: shows what `desktopNotification` makes of an
 * event when its kind is switched on in the settings (read at each event, so a change on
 * the Settings screen applies at once).
 */
export function desktopNotifier(
  show: ShowNotification,
  settings: () => Settings['notifications'],
): Notifier {
  return {
    async notify(n) {
      const d = desktopNotification(n);
      if (d && (d.category === null || settings()[d.category])) show(d);
    },
  };
}
