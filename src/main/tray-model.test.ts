import { describe, expect, it } from 'vitest';
import {
  relativeTime,
  TRAY_STATES,
  trayModel,
  type TrayMenuItem,
  type TraySnapshot,
} from './tray-model.js';

const now = new Date('2026-05-01T12:00:00Z');
const base: TraySnapshot = {
  now,
  theme: 'light',
  running: [],
  lastRun: { status: 'succeeded', at: '2026-05-01T11:55:00Z', projectName: 'shop' },
  nextRun: { at: '2026-05-01T14:00:00Z', scheduleName: 'nightly' },
  pause: null,
  projects: [
    { id: 'p1', name: 'shop', destinationId: 'd1' },
    { id: 'p2', name: 'blog', destinationId: null },
  ],
};

const labels = (items: TrayMenuItem[]): string[] =>
  items.map((i) => (i.type === 'separator' ? '---' : i.label));
const find = (items: TrayMenuItem[], label: string) =>
  items.find((i) => 'label' in i && i.label === label);

describe('the tray model', () => {
  it('idle: status, last and next run, back up now per project, pause, open, quit', () => {
    const m = trayModel(base);
    expect(m.state).toBe('idle');
    expect(m.icon).toBe('tray-idle-light.png');
    expect(m.tooltip).toBe('FireBackup: Up to date');
    expect(m.title).toBe('');
    expect(labels(m.menu)).toEqual([
      'Up to date',
      'Last run: succeeded 5 min ago (shop)',
      'Next run: in 2 h (nightly)',
      '---',
      'Back up now',
      'Pause schedules',
      '---',
      'Open FireBackup',
      'Quit FireBackup',
    ]);
    const backup = find(m.menu, 'Back up now');
    expect(backup).toEqual({
      type: 'submenu',
      label: 'Back up now',
      items: [
        {
          type: 'action',
          label: 'shop',
          action: { kind: 'backup-now', projectId: 'p1', destinationId: 'd1' },
          enabled: true,
        },
        { type: 'label', label: 'blog (no destination yet)' },
      ],
    });
    const pause = find(m.menu, 'Pause schedules');
    expect(pause?.type === 'submenu' && pause.items.map((i) => 'action' in i && i.action)).toEqual([
      { kind: 'pause', hours: 1 },
      { kind: 'pause', hours: null },
    ]);
    expect(find(m.menu, 'Quit FireBackup')).toMatchObject({ action: { kind: 'quit' } });
    expect(find(m.menu, 'Open FireBackup')).toMatchObject({ action: { kind: 'open' } });
  });

  it('running: progress in the status line, tooltip and title; dark icon on a dark bar', () => {
    const m = trayModel({
      ...base,
      theme: 'dark',
      running: [
        { kind: 'backup', projectName: 'shop', items: 420, itemsTotal: 1000 },
        { kind: 'verify', projectName: null },
      ],
    });
    expect(m.state).toBe('running');
    expect(m.icon).toBe('tray-running-dark.png');
    expect(m.menu[0]).toEqual({ type: 'label', label: 'Backing up shop: 42% (+1 more)' });
    expect(m.title).toBe('42%');
    expect(m.tooltip).toBe('FireBackup: Backing up shop: 42% (+1 more)');
  });

  it('running without a known total says so without a number', () => {
    const m = trayModel({ ...base, running: [{ kind: 'backup', projectName: 'shop', items: 5 }] });
    expect(m.menu[0]).toEqual({ type: 'label', label: 'Backing up shop…' });
    expect(m.title).toBe('');
  });

  it('failed or missed last run: the failed icon and what to do', () => {
    const failed = trayModel({
      ...base,
      lastRun: { status: 'failed', at: '2026-05-01T09:00:00Z', projectName: 'shop' },
    });
    expect(failed.state).toBe('failed');
    expect(failed.icon).toBe('tray-failed-light.png');
    expect(labels(failed.menu).slice(0, 2)).toEqual([
      'Last run failed (shop): open FireBackup to see why',
      'Last run: failed 3 h ago (shop)',
    ]);
    const missed = trayModel({
      ...base,
      lastRun: { status: 'missed', at: null, projectName: 'shop' },
    });
    expect(missed.state).toBe('failed');
    expect(missed.menu[0]).toEqual({
      type: 'label',
      label: 'Missed a run of shop: open FireBackup to see why',
    });
  });

  it('paused for an hour or until resumed: the menu offers Resume', () => {
    const hour = trayModel({ ...base, pause: { until: '2026-05-01T13:00:00Z' } });
    expect(hour.state).toBe('paused');
    expect(hour.icon).toBe('tray-paused-light.png');
    expect(labels(hour.menu)).toEqual([
      'Schedules paused, resuming in 1 h',
      'Last run: succeeded 5 min ago (shop)',
      'Next run: paused',
      '---',
      'Back up now',
      'Resume schedules',
      '---',
      'Open FireBackup',
      'Quit FireBackup',
    ]);
    expect(find(hour.menu, 'Resume schedules')).toMatchObject({ action: { kind: 'resume' } });
    const forever = trayModel({ ...base, pause: { until: null } });
    expect(forever.menu[0]).toEqual({
      type: 'label',
      label: 'Schedules paused until you resume them',
    });
  });

  it('a run while paused shows the run and still says schedules are paused', () => {
    const m = trayModel({
      ...base,
      pause: { until: null },
      running: [{ kind: 'backup', projectName: 'shop' }],
    });
    expect(m.state).toBe('running');
    expect(labels(m.menu).slice(0, 2)).toEqual([
      'Backing up shop…',
      'Schedules paused until you resume them',
    ]);
    expect(labels(m.menu)).toContain('Resume schedules');
  });

  it('no projects and no runs yet', () => {
    const m = trayModel({ ...base, projects: [], lastRun: null, nextRun: null });
    expect(labels(m.menu).slice(0, 3)).toEqual([
      'Up to date',
      'Last run: none yet',
      'Next run: none scheduled',
    ]);
    expect(find(m.menu, 'Back up now')).toEqual({
      type: 'submenu',
      label: 'Back up now',
      items: [{ type: 'label', label: 'No projects yet: add one in FireBackup' }],
    });
  });

  it('has an icon for every state and theme', () => {
    const icons = TRAY_STATES.flatMap((state) =>
      (['light', 'dark'] as const).map((theme) => `tray-${state}-${theme}.png`),
    );
    expect(new Set(icons).size).toBe(8);
  });

  it('says relative times plainly', () => {
    const at = (s: number) => new Date(now.getTime() + s * 1000);
    expect(relativeTime(at(-10), now)).toBe('just now');
    expect(relativeTime(at(30), now)).toBe('in under a minute');
    expect(relativeTime(at(-300), now)).toBe('5 min ago');
    expect(relativeTime(at(7200), now)).toBe('in 2 h');
    expect(relativeTime(at(-5 * 86_400), now)).toBe('5 days ago');
  });
});
