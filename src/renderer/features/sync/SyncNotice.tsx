import { useEffect } from 'react';
import type { SyncedList } from '../../../shared/api/methods/sync.js';
import type { Action } from '../../../shared/rbac.js';
import { useApp } from '../../store/index.js';
import { canOnScreen, orgTitle, syncNotice } from './abilities.js';

/** Whether this screen offers `action` (team sync mode: the member's role allows it). */
export function useCan(action: Action): boolean {
  return useApp((s) => canOnScreen(s.sync.state.value, action));
}

/** The screen heading, naming the organisation in team sync mode (abilities.ts, orgTitle). */
export function useOrgTitle(local: string, shared: (organisation: string) => string): string {
  return useApp((s) => orgTitle(s.sync.state.value, local, shared));
}

/**
 * The catalog screen's line about team sync: the offline banner ("Offline — showing the
 * organisation's state as of …"), or with whom the list is shared. `loaded` is the
 * screen's list: the state is asked again each time it is (re)loaded.
 */
export function SyncNotice({ list, loaded }: { list: SyncedList; loaded: unknown }) {
  const load = useApp((s) => s.sync.load);
  const state = useApp((s) => s.sync.state.value);
  useEffect(() => void load(), [load, loaded]);
  const notice = syncNotice(state, list);
  if (notice === null) return null;
  return notice.tone === 'warning' ? (
    <p className="notice notice-warning" role="status" data-sync="offline">
      {notice.text}
    </p>
  ) : (
    <p className="muted" data-sync="shared">
      {notice.text}
    </p>
  );
}
