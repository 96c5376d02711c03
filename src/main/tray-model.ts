/**
 * The tray, as a pure function: what the app knows (running jobs, last and next run,
 * pause, projects) → the icon, tooltip and menu to show. tray.ts only renders the model
 * with Electron's Tray and Menu, so every label and every state is tested in Node.
 */
import type { JobKind, RunStatus } from '../shared/jobs.js';

export type TrayState = 'idle' | 'running' | 'failed' | 'paused';
export const TRAY_STATES: readonly TrayState[] = ['idle', 'running', 'failed', 'paused'];
export type Theme = 'light' | 'dark';

export interface TraySnapshot {
  now: Date;
  /** The OS theme: the tray icon is drawn for it (a dark icon on a light bar and back). */
  theme: Theme;
  running: {
    kind: JobKind;
    projectName: string | null;
    /** Items done and total when the job knows its total. */
    items?: number;
    itemsTotal?: number;
  }[];
  lastRun: {
    status: RunStatus;
    at: string | null;
    projectName: string | null;
  } | null;
  nextRun: { at: string; scheduleName: string } | null;
  /** Schedules paused in this app: until a time, or until resumed (`until: null`). */
  pause: { until: string | null } | null;
  /** "Back up now" targets: a project and the destination its backups go to. */
  projects: { id: string; name: string; destinationId: string | null }[];
}

export type TrayAction =
  | { kind: 'backup-now'; projectId: string; destinationId: string }
  | { kind: 'pause'; hours: number | null }
  | { kind: 'resume' }
  | { kind: 'open' }
  | { kind: 'quit' };

export type TrayMenuItem =
  | { type: 'label'; label: string }
  | { type: 'separator' }
  | { type: 'action'; label: string; action: TrayAction; enabled: boolean }
  | { type: 'submenu'; label: string; items: TrayMenuItem[] };

export interface TrayModel {
  state: TrayState;
  /** File name in resources/tray/. */
  icon: string;
  tooltip: string;
  /** Short text beside the icon where the OS shows one (macOS): the progress. */
  title: string;
  menu: TrayMenuItem[];
}

/** Pause lengths offered in the menu, in hours (`null`: until resumed). */
export const PAUSE_CHOICES: readonly { label: string; hours: number | null }[] = [
  { label: 'For 1 hour', hours: 1 },
  { label: 'Until I resume them', hours: null },
];

/**
 * A running job wins (people want to see it work), then a failure (it needs them), then a
 * pause (nothing will run), then idle.
 */
export function trayState(s: TraySnapshot): TrayState {
  if (s.running.length > 0) return 'running';
  if (s.lastRun?.status === 'failed' || s.lastRun?.status === 'missed') return 'failed';
  if (s.pause) return 'paused';
  return 'idle';
}

export const trayIconFile = (state: TrayState, theme: Theme): string =>
  `tray-${state}-${theme}.png`;

/** "5 min ago" / "in 2 h": short, for a menu line. */
export function relativeTime(at: Date, now: Date): string {
  const seconds = Math.round((at.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(seconds);
  const span =
    abs < 60
      ? 'under a minute'
      : abs < 3600
        ? `${Math.round(abs / 60)} min`
        : abs < 86_400 * 2
          ? `${Math.round(abs / 3600)} h`
          : `${Math.round(abs / 86_400)} days`;
  if (abs < 60) return seconds >= 0 ? 'in under a minute' : 'just now';
  return seconds >= 0 ? `in ${span}` : `${span} ago`;
}

function percent(job: TraySnapshot['running'][number]): number | undefined {
  if (job.items === undefined || !job.itemsTotal) return undefined;
  return Math.min(100, Math.floor((job.items / job.itemsTotal) * 100));
}

const VERB: Record<JobKind, string> = {
  backup: 'Backing up',
  restore: 'Restoring',
  verify: 'Verifying',
  prune: 'Pruning',
  check: 'Checking',
  rotate: 'Rotating the key of',
};

function statusLine(s: TraySnapshot, state: TrayState): string {
  switch (state) {
    case 'running': {
      const [job] = s.running;
      const what = `${VERB[job!.kind]} ${job!.projectName ?? 'backups'}`;
      const p = percent(job!);
      const more = s.running.length > 1 ? ` (+${s.running.length - 1} more)` : '';
      return `${what}${p === undefined ? '…' : `: ${p}%`}${more}`;
    }
    case 'failed':
      return s.lastRun?.status === 'missed'
        ? `Missed a run${s.lastRun.projectName ? ` of ${s.lastRun.projectName}` : ''}: open FireBackup to see why`
        : `Last run failed${s.lastRun?.projectName ? ` (${s.lastRun.projectName})` : ''}: open FireBackup to see why`;
    case 'paused':
      return pauseLine(s);
    case 'idle':
      return 'Up to date';
  }
}

function pauseLine(s: TraySnapshot): string {
  if (!s.pause) return '';
  return s.pause.until
    ? `Schedules paused, resuming ${relativeTime(new Date(s.pause.until), s.now)}`
    : 'Schedules paused until you resume them';
}

const LAST_RUN_WORD: Record<RunStatus, string> = {
  queued: 'queued',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
  missed: 'missed',
};

function lastRunLine(s: TraySnapshot): string {
  const r = s.lastRun;
  if (!r) return 'Last run: none yet';
  const when = r.at ? ` ${relativeTime(new Date(r.at), s.now)}` : '';
  return `Last run: ${LAST_RUN_WORD[r.status]}${when}${r.projectName ? ` (${r.projectName})` : ''}`;
}

function nextRunLine(s: TraySnapshot): string {
  if (s.pause) return 'Next run: paused';
  if (!s.nextRun) return 'Next run: none scheduled';
  return `Next run: ${relativeTime(new Date(s.nextRun.at), s.now)} (${s.nextRun.scheduleName})`;
}

function backupNowMenu(s: TraySnapshot): TrayMenuItem {
  const items: TrayMenuItem[] =
    s.projects.length === 0
      ? [{ type: 'label', label: 'No projects yet: add one in FireBackup' }]
      : s.projects.map((p) =>
          p.destinationId
            ? {
                type: 'action',
                label: p.name,
                action: { kind: 'backup-now', projectId: p.id, destinationId: p.destinationId },
                enabled: true,
              }
            : { type: 'label', label: `${p.name} (no destination yet)` },
        );
  return { type: 'submenu', label: 'Back up now', items };
}

export function trayModel(s: TraySnapshot): TrayModel {
  const state = trayState(s);
  const status = statusLine(s, state);
  const running = s.running[0];
  const p = running ? percent(running) : undefined;
  return {
    state,
    icon: trayIconFile(state, s.theme),
    tooltip: `FireBackup: ${status}`,
    title: p === undefined ? '' : `${p}%`,
    menu: [
      { type: 'label', label: status },
      // The status line says "paused" already when it is the state; say it again if not.
      ...(s.pause && state !== 'paused' ? [{ type: 'label', label: pauseLine(s) } as const] : []),
      { type: 'label', label: lastRunLine(s) },
      { type: 'label', label: nextRunLine(s) },
      { type: 'separator' },
      backupNowMenu(s),
      s.pause
        ? { type: 'action', label: 'Resume schedules', action: { kind: 'resume' }, enabled: true }
        : {
            type: 'submenu',
            label: 'Pause schedules',
            items: PAUSE_CHOICES.map((c) => ({
              type: 'action',
              label: c.label,
              action: { kind: 'pause', hours: c.hours },
              enabled: true,
            })),
          },
      { type: 'separator' },
      { type: 'action', label: 'Open FireBackup', action: { kind: 'open' }, enabled: true },
      { type: 'action', label: 'Quit FireBackup', action: { kind: 'quit' }, enabled: true },
    ],
  };
}
