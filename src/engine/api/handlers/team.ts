import type { MethodName } from '../../../shared/api/contract.js';
import type { ApiKey, AuditEntry, Member, TeamSession } from '../../../shared/api/methods/team.js';
import { AppError } from '../../../shared/errors.js';
import type { Submitted } from '../../team/service.js';
import type { BrowserSignIn } from '../../team/sign-in-flow.js';
import type { HandlerContext, HandlersFor } from './context.js';
import { teamServiceOf } from './sync.js';
import { signInFlowOf, teamSignInHandlers } from './team-sign-in.js';

export type { BrowserSignIn } from '../../team/sign-in-flow.js';

/** How the front end lets the engine reach the server and the browser (all optional). */
export interface TeamHandlerOptions {
  /** The desktop passes shell.openExternal; without it the URL goes back to the renderer. */
  openUrl?: (url: string) => Promise<void>;
  /** The browser step (default: startBrowserSignIn, loopback redirect, RFC 8252). */
  signIn?: BrowserSignIn;
  /** How long the person has to finish signing in (default: sign-in.ts's 5 minutes). */
  signInTimeoutMs?: number;
  /** How long a sign-in waits for its second factor (default: sign-in.ts's 10 minutes). */
  secondFactorTimeoutMs?: number;
  /** Tests reach the server through their own network. */
  fetch?: typeof fetch;
}

type TeamMethod = Extract<MethodName, `team.${string}`>;

const ok = { ok: true as const };

const submitted = (s: Submitted) =>
  s.queued
    ? { queued: true, seq: s.seq, reason: s.reason }
    : { queued: false, seq: s.seq, result: s.result };

export function teamHandlers(context: HandlerContext): HandlersFor<TeamMethod> {
  /** Opened on first use: front ends that never sign in never create team.sqlite. */
  const team = () => teamServiceOf(context);

  return {
    ...teamSignInHandlers(context),

    'team.status': async () => {
      const status = await team().status();
      const signIn = signInFlowOf(context).state();
      return {
        ...status,
        signIn: {
          pending: signIn.step === 'browser' || signIn.step === 'secondFactor',
          url: signIn.step === 'browser' ? signIn.url : null,
          error: signIn.step === 'failed' ? signIn.error : null,
          secondFactor: signIn.step === 'secondFactor' ? signIn.secondFactor : null,
        },
      };
    },

    'team.signOut': async () => {
      // A sign-in still under way ends too (its loopback listener closes, a session that
      // owed its second factor is ended on the server).
      signInFlowOf(context).cancel();
      const service = team();
      const { wasSignedIn, serverReached } = await service.client.signOut();
      return { wasSignedIn, serverReached, queued: service.queue().length };
    },

    'team.pickOrganization': async ({ organizationId }) => team().pickOrganization(organizationId),

    'team.sync': async () => team().sync(),

    'team.list': async ({ list }) => team().list(list),

    'team.members.list': async () => {
      const listed = await team().list('members');
      return { ...listed, items: listed.items as unknown as Member[] };
    },

    'team.members.setRole': async ({ userId, role }) => {
      await team().setRole(userId, role);
      return ok;
    },

    'team.members.remove': async ({ userId }) => {
      await team().removeMember(userId);
      return ok;
    },

    'team.apiKeys.list': async () => {
      const { apiKeys } = await team().apiKeys();
      return { apiKeys: apiKeys as unknown as ApiKey[] };
    },

    'team.apiKeys.create': async (input) => {
      const created = await team().createApiKey(input);
      return created as unknown as ApiKey & { key: string };
    },

    'team.apiKeys.revoke': async ({ id }) => {
      await team().revokeApiKey(id);
      return ok;
    },

    'team.audit.search': async (query) => {
      const { entries, nextCursor } = await team().audit(query);
      return { entries: entries as unknown as AuditEntry[], nextCursor: nextCursor ?? null };
    },

    'team.sessions.list': async () => {
      const { sessions } = await team().sessions();
      return { sessions: sessions as unknown as TeamSession[] };
    },

    'team.sessions.revoke': async ({ sessionId }) => {
      await team().revokeSession(sessionId);
      return ok;
    },

    'team.projects.create': async (body) =>
      submitted(await team().submit('projects.create', 'POST', '/projects', body)),

    'team.backups.record': async (body) =>
      submitted(await team().submit('backups.record', 'POST', '/backups', body)),

    'team.queue.list': async () => {
      const service = team();
      const credentials = await service.client.signIn();
      return {
        items: service.queue().map((i) => ({
          seq: i.seq,
          action: i.action,
          organizationId: i.orgId,
          createdAt: i.createdAt,
          attempts: i.attempts,
          lastError: i.lastError,
          state: i.state,
          mine:
            credentials !== undefined &&
            i.serverUrl === credentials.serverUrl &&
            i.userId === credentials.user.id,
        })),
      };
    },

    'team.queue.retry': async ({ seq }) => {
      if (!team().retry(seq))
        throw new AppError(
          'NOT_FOUND',
          `No refused action ${seq} in the queue (sent or dropped already).`,
        );
      await team().deliver();
      return ok;
    },

    'team.queue.discard': async ({ seq }) => {
      if (!team().discard(seq))
        throw new AppError('NOT_FOUND', `No queued action ${seq} (sent or dropped already).`);
      return ok;
    },
  };
}
