import type {
  Synced,
  SyncedList,
  SyncOrigin,
  SyncState,
} from '../../../shared/api/methods/sync.js';
import { can, type Action } from '../../../shared/rbac.js';
import { formatDateTime } from '../../components/format.js';

/**
 * What the catalog screens offer and say in team sync mode (pure, so tests check it
 * without a DOM): the actions the member's role allows (src/shared/rbac.ts, the matrix
 * the server enforces; hiding is for clarity, the server refuses a forced call), and the
 * line that says where the list came from. Outside sync mode (or before the state is
 * known) everything is offered, as before.
 */

export function canOnScreen(state: SyncState | null, action: Action): boolean {
  if (state === null) return true;
  return can({ mode: state.mode, role: state.organization?.role }, action);
}

const LIST_WORDS: Record<SyncedList, string> = {
  projects: 'projects',
  destinations: 'destinations',
  schedules: 'schedules',
  runs: 'run history',
  backups: 'backups',
};

export interface SyncNoticeText {
  tone: 'warning' | 'info';
  text: string;
}

/** The screen's sync line: offline (as of when), not shared (why), or shared (with whom). */
export function syncNotice(state: SyncState | null, list: SyncedList): SyncNoticeText | null {
  if (state === null || state.mode !== 'server') return null;
  const served = state.lists[list];
  const what = LIST_WORDS[list];
  if (served?.offline && served.source === 'server' && served.syncedAt !== null)
    return {
      tone: 'warning',
      text: `Offline — showing the organisation's state as of ${formatDateTime(served.syncedAt)}.`,
    };
  if (served?.source === 'local' && served.problem !== null)
    return {
      tone: 'warning',
      text: served.offline
        ? `Offline — the organisation's ${what} were never synced to this machine; showing only this machine's.`
        : `The organisation's ${what} could not be read (${served.problem.message}); showing only this machine's.`,
    };
  const org = state.organization;
  if (org === null) return null;
  return {
    tone: 'info',
    text: `Shared with ${org.name}: you are ${org.role === 'admin' || org.role === 'owner' ? 'an' : 'a'} ${org.role}.`,
  };
}

/**
 * A catalog screen's heading: in team sync mode it names the organisation whose state the
 * screen shows ("Projects of Acme"); otherwise the screen's own words ("Your projects").
 */
export function orgTitle(
  state: SyncState | null,
  local: string,
  shared: (organisation: string) => string,
): string {
  const org = state?.mode === 'server' ? state.organization : null;
  return org ? shared(org.name) : local;
}

/**
 * What a row's origin says beside its name in sync mode (null: nothing to say): another
 * member's (no credentials or secret here), or made here and not on the server yet.
 */
export function originNote(origin: SyncOrigin | undefined): string | null {
  if (origin?.where === 'server') return 'Not set up on this machine';
  if (origin?.pending) return 'Not sent to the server yet';
  return null;
}

/**
 * The rows set up on this machine: what a backup, a schedule or a restore here can use
 * (another member's project or destination has no credentials or secret here).
 */
export function setUpHere<T extends object>(rows: T[]): T[] {
  return rows.filter((r) => (r as Synced<object>).origin?.where !== 'server');
}
