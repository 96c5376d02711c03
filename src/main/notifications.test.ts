import { describe, expect, it } from 'vitest';
import type { Notification } from '../engine/notify/notifier.js';
import type { Run } from '../shared/jobs.js';
import { DEFAULT_SETTINGS } from '../shared/settings.js';
import { desktopNotification, desktopNotifier, type DesktopNotification } from './notifications.js';

const run: Run = {
  id: 'run/1',
  kind: 'backup',
  status: 'failed',
  trigger: 'schedule',
  projectId: 'p1',
  destinationId: 'd1',
  scheduleId: 's1',
  backupId: null,
  scheduledFor: null,
  startedAt: null,
  finishedAt: null,
  attempts: 3,
  counts: null,
  bytes: null,
  error: {
    code: 'UNAVAILABLE',
    message: 'Firestore did not answer.',
    fault: 'system',
    retryable: true,
  },
  detail: null,
};
const base: Notification = {
  kind: 'run.failed',
  message: 'Schedule "nightly" failed after 3 attempts: Firestore did not answer.',
  schedule: { id: 's1', name: 'nightly' },
  project: { id: 'p1', name: 'shop' },
  run,
  at: '2026-05-01T12:00:00Z',
};

describe('desktop notifications', () => {
  it('a failed run: urgent, opens that run in History', () => {
    expect(desktopNotification(base)).toEqual({
      title: 'Backup failed: shop',
      body: base.message,
      route: '/history?run=run%2F1',
      urgent: true,
      category: 'failedRuns',
    });
  });

  it('a missed run: opens that run in History', () => {
    expect(
      desktopNotification({
        ...base,
        kind: 'run.missed',
        run: { ...run, status: 'missed', error: null },
      }),
    ).toMatchObject({
      title: 'Missed run: shop',
      route: '/history?run=run%2F1',
      urgent: false,
      category: 'missedRuns',
    });
  });

  it('a key that cannot read a destination: opens Keys for that destination', () => {
    const n = desktopNotification({
      ...base,
      run: {
        ...run,
        error: {
          code: 'KEY_NOT_FOUND',
          message: 'No key here reads backups written with key 1a2b.',
          fault: 'user',
          retryable: false,
        },
      },
    });
    expect(n).toEqual({
      title: 'A key cannot read these backups',
      body: 'shop: No key here reads backups written with key 1a2b. Open Keys to import the key that wrote them.',
      route: '/keys?destination=d1',
      urgent: true,
      category: 'keyProblems',
    });
  });

  it('a finished backup: opens that backup on the Backups screen', () => {
    const n = desktopNotification({
      ...base,
      kind: 'run.succeeded',
      run: { ...run, status: 'succeeded', error: null, backupId: 'bkp_1' },
    });
    expect(n).toMatchObject({
      title: 'Backup finished: shop',
      route: '/backups?destination=d1&backup=bkp_1',
    });
    // A run without a backup (a verify) opens the run itself.
    expect(
      desktopNotification({
        ...base,
        kind: 'run.succeeded',
        run: { ...run, kind: 'verify', status: 'succeeded', error: null },
      })?.route,
    ).toBe('/history?run=run%2F1');
  });

  it('a key problem without a destination opens Keys', () => {
    const n = desktopNotification({
      ...base,
      run: {
        ...run,
        destinationId: null,
        error: { code: 'KEY_INVALID', message: 'x', fault: 'user', retryable: false },
      },
    });
    expect(n?.route).toBe('/keys');
  });

  it('shows a kind only while its setting is on, and follows the setting at once', async () => {
    const shown: DesktopNotification[] = [];
    const settings = { ...DEFAULT_SETTINGS.notifications, failedRuns: false };
    const notifier = desktopNotifier(
      (n) => shown.push(n),
      () => settings,
    );
    await notifier.notify(base);
    await notifier.notify({ ...base, kind: 'run.missed' });
    expect(shown.map((n) => n.title)).toEqual(['Missed run: shop']);
    settings.failedRuns = true;
    await notifier.notify(base);
    expect(shown.map((n) => n.title)).toEqual(['Missed run: shop', 'Backup failed: shop']);
  });
});
