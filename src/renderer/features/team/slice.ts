import type { MethodInput, MethodOutput } from '../../../shared/api/contract.js';
import type {
  ApiKey,
  AuditEntry,
  QueueItem,
  TeamSession,
  TeamStatus,
} from '../../../shared/api/methods/team.js';
import { secondFactorAnswer, type SignInState } from '../../../shared/api/methods/team-sign-in.js';
import type { ErrorData } from '../../../shared/errors.js';
import type { Role } from '../../../shared/rbac.js';
import { callInto, loadable, type Loadable, type SliceCreator } from '../../store/slice.js';

export type MembersList = MethodOutput<'team.members.list'>;
export type CreatedKey = MethodOutput<'team.apiKeys.create'>;

/**
 * The Team screen's state: the sign-in and organisation, then the lists an organisation
 * shows (members, API keys, audit log, sessions, queued changes). Admin lists are loaded
 * only when the role may see them; the server refuses the rest anyway.
 */
export interface TeamSlice {
  status: Loadable<TeamStatus | null>;
  members: Loadable<MembersList | null>;
  apiKeys: Loadable<ApiKey[]>;
  audit: Loadable<AuditEntry[]>;
  sessions: Loadable<TeamSession[]>;
  queue: Loadable<QueueItem[]>;
  /** A key just made: shown once, then forgotten. */
  newKey: CreatedKey | null;
  /** The sign-in page to open (web mode: the renderer opens it in a new tab). */
  signInUrl: string | null;
  /** The sign-in under way, step by step (browser, second factor, signed in, failed). */
  signInState: SignInState | null;
  /** Why the last code given was refused (wrong, expired, too many attempts). */
  secondFactorError: ErrorData | null;
  /** After enrolling an authenticator: the one-use recovery codes, shown once. */
  recoveryCodes: string[] | null;
  actionError: ErrorData | null;
  /** A short confirmation of the last action (read out by screen readers). */
  notice: string | null;
  loadStatus(): Promise<TeamStatus | undefined>;
  /** Status, then every list the role may see. */
  loadAll(): Promise<void>;
  signIn(serverUrl: string): Promise<void>;
  /** Follows the sign-in under way until it needs the person or ends. */
  followSignIn(): Promise<void>;
  /** The code typed (authenticator or recovery code) for the sign-in's second factor. */
  submitSecondFactor(typed: string): Promise<void>;
  dismissRecoveryCodes(): void;
  signOut(): Promise<void>;
  pickOrganization(organizationId: string): Promise<void>;
  sync(): Promise<void>;
  setRole(userId: string, role: Role): Promise<void>;
  removeMember(userId: string): Promise<void>;
  createKey(input: MethodInput<'team.apiKeys.create'>): Promise<void>;
  revokeKey(id: string): Promise<void>;
  dismissNewKey(): void;
  searchAudit(event?: string): Promise<void>;
  revokeSession(sessionId: string): Promise<void>;
  retry(seq: number): Promise<void>;
  discard(seq: number): Promise<void>;
  clearError(): void;
}

const ADMIN_ROLES: readonly Role[] = ['owner', 'admin'];

export const teamSlice: SliceCreator<TeamSlice> = ({ client, get, set }) => {
  const failed = (error: ErrorData) => set({ actionError: error, notice: null });
  let following = false;
  /** Loads one list into its Loadable. */
  const load = async <K extends 'members' | 'apiKeys' | 'audit' | 'sessions' | 'queue', V>(
    key: K,
    fetch: (onError: (e: ErrorData) => void) => Promise<V | undefined>,
  ) => {
    const current = get()[key] as Loadable<unknown>;
    set({ [key]: { ...current, loading: true, error: null } } as Partial<TeamSlice>);
    const value = await fetch((error) =>
      set({
        [key]: { ...(get()[key] as Loadable<unknown>), loading: false, error },
      } as Partial<TeamSlice>),
    );
    if (value !== undefined)
      set({ [key]: { value, loading: false, error: null } } as Partial<TeamSlice>);
  };
  /** Runs an action; on success says so and reloads what it changed. */
  const act = async <T>(
    run: () => Promise<T | undefined>,
    done: string,
    reload: () => Promise<void>,
  ) => {
    set({ actionError: null, notice: null });
    const result = await run();
    if (result === undefined) return undefined;
    set({ notice: done });
    await reload();
    return result;
  };

  const slice: TeamSlice = {
    status: loadable(null),
    members: loadable(null),
    apiKeys: loadable([]),
    audit: loadable([]),
    sessions: loadable([]),
    queue: loadable([]),
    newKey: null,
    signInUrl: null,
    signInState: null,
    secondFactorError: null,
    recoveryCodes: null,
    actionError: null,
    notice: null,

    async loadStatus() {
      set({ status: { ...get().status, loading: true, error: null } });
      const value = await callInto(client, 'team.status', {}, (error) =>
        set({ status: { ...get().status, loading: false, error } }),
      );
      if (value) set({ status: { value, loading: false, error: null } });
      return value;
    },

    async loadAll() {
      const status = await slice.loadStatus();
      // A sign-in under way (the screen was reloaded): pick it up where it is.
      if (status?.signIn.pending) void slice.followSignIn();
      await load(
        'queue',
        async (onError) => (await callInto(client, 'team.queue.list', {}, onError))?.items,
      );
      if (!status?.signedIn) return;
      await load(
        'sessions',
        async (onError) => (await callInto(client, 'team.sessions.list', {}, onError))?.sessions,
      );
      if (status.organization === null) return;
      await load('members', (onError) => callInto(client, 'team.members.list', {}, onError));
      if (!ADMIN_ROLES.includes(status.organization.role) || status.offline) return;
      await load(
        'apiKeys',
        async (onError) => (await callInto(client, 'team.apiKeys.list', {}, onError))?.apiKeys,
      );
      await slice.searchAudit();
    },

    async signIn(serverUrl) {
      set({
        actionError: null,
        notice: null,
        signInUrl: null,
        secondFactorError: null,
        recoveryCodes: null,
      });
      const started = await callInto(client, 'team.signIn', { serverUrl }, failed);
      if (!started) return;
      set({
        signInUrl: started.opened ? null : started.url,
        signInState: started,
        notice: started.opened
          ? 'The sign-in page opened in your browser; finish there.'
          : 'Open the sign-in page and finish there.',
      });
      await slice.loadStatus();
      void slice.followSignIn();
    },

    async followSignIn() {
      if (following) return;
      following = true;
      try {
        for (;;) {
          // Long-polls while the browser step runs: answers as soon as it moves on.
          const state = await callInto(client, 'team.signIn.state', { waitMs: 20_000 }, failed);
          if (!state) return;
          set({ signInState: state });
          if (state.step === 'browser') continue;
          if (state.step === 'secondFactor')
            set({
              signInUrl: null,
              notice:
                state.secondFactor === 'enrol'
                  ? 'Set up two-step sign-in to finish signing in.'
                  : 'Enter the code from your authenticator app to finish signing in.',
            });
          if (state.step === 'signedIn') {
            set({ signInUrl: null, notice: `Signed in as ${state.email}.` });
            await slice.loadAll();
          } else await slice.loadStatus();
          return;
        }
      } finally {
        following = false;
      }
    },

    async submitSecondFactor(typed) {
      set({ secondFactorError: null, actionError: null });
      const done = await callInto(
        client,
        'team.signIn.secondFactor',
        secondFactorAnswer(typed),
        (error) => set({ secondFactorError: error }),
      );
      if (done) {
        set({
          signInState: { step: 'signedIn', email: done.email },
          recoveryCodes: done.recoveryCodes,
          notice: `Signed in as ${done.email}.`,
        });
        await slice.loadAll();
        return;
      }
      // Refused: still waiting for a code (wrong one, too many attempts), or over (expired).
      const state = await callInto(client, 'team.signIn.state', { waitMs: 0 }, failed);
      if (state) set({ signInState: state });
      if (state?.step !== 'secondFactor') await slice.loadStatus();
    },

    dismissRecoveryCodes: () => set({ recoveryCodes: null }),

    async signOut() {
      const out = await act(
        () => callInto(client, 'team.signOut', {}, failed),
        'Signed out.',
        slice.loadAll,
      );
      if (out && out.queued > 0)
        set({
          notice: `Signed out. ${out.queued} queued change(s) stay on this machine and are sent when you sign in again.`,
        });
      set({
        signInUrl: null,
        signInState: null,
        secondFactorError: null,
        members: loadable(null),
        apiKeys: loadable([]),
        audit: loadable([]),
        sessions: loadable([]),
      });
    },

    async pickOrganization(organizationId) {
      await act(
        () => callInto(client, 'team.pickOrganization', { organizationId }, failed),
        'Organisation picked.',
        slice.loadAll,
      );
    },

    async sync() {
      const synced = await act(
        () => callInto(client, 'team.sync', {}, failed),
        'Synced.',
        slice.loadAll,
      );
      if (synced)
        set({
          notice: `Synced: ${synced.delivered} queued change(s) sent, ${synced.remaining} waiting.`,
        });
    },

    async setRole(userId, role) {
      await act(
        () => callInto(client, 'team.members.setRole', { userId, role }, failed),
        `Role changed to ${role}.`,
        () => load('members', (onError) => callInto(client, 'team.members.list', {}, onError)),
      );
    },

    async removeMember(userId) {
      await act(
        () => callInto(client, 'team.members.remove', { userId }, failed),
        'Member removed.',
        () => load('members', (onError) => callInto(client, 'team.members.list', {}, onError)),
      );
    },

    async createKey(input) {
      set({ newKey: null });
      const created = await act(
        () => callInto(client, 'team.apiKeys.create', input, failed),
        'API key made: copy it now, it is shown only once.',
        () =>
          load(
            'apiKeys',
            async (onError) => (await callInto(client, 'team.apiKeys.list', {}, onError))?.apiKeys,
          ),
      );
      if (created) set({ newKey: created });
    },

    async revokeKey(id) {
      await act(
        () => callInto(client, 'team.apiKeys.revoke', { id }, failed),
        'API key revoked.',
        () =>
          load(
            'apiKeys',
            async (onError) => (await callInto(client, 'team.apiKeys.list', {}, onError))?.apiKeys,
          ),
      );
    },

    dismissNewKey: () => set({ newKey: null }),

    async searchAudit(event) {
      await load(
        'audit',
        async (onError) =>
          (
            await callInto(
              client,
              'team.audit.search',
              { limit: 100, ...(event ? { event } : {}) },
              onError,
            )
          )?.entries,
      );
    },

    async revokeSession(sessionId) {
      await act(
        () => callInto(client, 'team.sessions.revoke', { sessionId }, failed),
        'Session ended.',
        () =>
          load(
            'sessions',
            async (onError) =>
              (await callInto(client, 'team.sessions.list', {}, onError))?.sessions,
          ),
      );
    },

    async retry(seq) {
      await act(
        () => callInto(client, 'team.queue.retry', { seq }, failed),
        'Sent again.',
        slice.loadAll,
      );
    },

    async discard(seq) {
      await act(
        () => callInto(client, 'team.queue.discard', { seq }, failed),
        'Queued change dropped.',
        slice.loadAll,
      );
    },

    clearError: () => set({ actionError: null }),
  };
  return slice;
};
