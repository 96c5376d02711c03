import { AppError, isAppError, toErrorData, type ErrorData } from '../../shared/errors.js';
import { isAllowed, type Action, type Role } from '../../shared/rbac.js';
import { isTransient, type TeamClient } from './client.js';
import type { TeamCredentials } from './credentials.js';
import type { OutboxItem, TeamLocalStore } from './local-store.js';
import { resolveBody, resolvePath, SAME_ON_SERVER, type LocalKind } from './local-refs.js';

/**
 * Team sync mode on the engine: the organisation's lists read through a local cache
 * (the last known state, with its age, when the server is unreachable), actions sent
 * through the offline queue (in order, each with its own Idempotency-Key), and the
 * online-only admin tasks (members, API keys, audit, sessions). The contract's `team.*`
 * handlers and the CLI both sit on this.
 */

/** The organisation's lists the app keeps for offline reading. */
export const SYNC_LISTS = {
  projects: '/projects',
  members: '/members',
  backups: '/backups',
  // Shared catalog routes the server may not offer yet (an older server answers
  // "No route"): read when present, reported as unavailable otherwise.
  destinations: '/destinations',
  schedules: '/schedules',
  runs: '/runs',
} as const;
export type SyncList = keyof typeof SYNC_LISTS;

/** Rows asked per page (the server's maximum), and most rows kept per list offline. */
const PAGE = 200;
const MAX_ROWS = 10_000;
export const SYNC_LIST_NAMES = Object.keys(SYNC_LISTS) as SyncList[];

export interface Listed {
  items: Record<string, unknown>[];
  /** When these items were fetched from the server (null: never). */
  syncedAt: string | null;
  /** True when the server could not be reached and these are the last known items. */
  offline: boolean;
  /** False when this server does not offer the list (an older server). */
  available: boolean;
  /** Why the list is not live (the server's or the network's error), else null. */
  problem: ErrorData | null;
}

export interface Membership {
  id: string;
  name: string;
  role: Role;
}

export interface TeamStatus {
  signedIn: boolean;
  serverUrl: string | null;
  user: { id: string; email: string } | null;
  organization: Membership | null;
  organizations: Membership[];
  lastSyncAt: string | null;
  queue: { pending: number; failed: number };
  offline: boolean;
  problem: ErrorData | null;
}

/** What a queued action became: sent (with the server's answer) or kept for later. */
export type Submitted =
  | { queued: false; seq: number; result: unknown }
  | { queued: true; seq: number; reason: ErrorData };

type DeliveryOutcome = { ok: true; body: unknown } | { ok: false; error: ErrorData };

export class TeamService {
  private delivering: Promise<{ delivered: number; remaining: number }> | undefined;
  private readonly outcomes = new Map<number, DeliveryOutcome>();

  constructor(
    readonly client: TeamClient,
    readonly store: TeamLocalStore,
  ) {}

  private async scope(): Promise<{ credentials: TeamCredentials; orgId: string }> {
    const credentials = await this.client.requireSignIn();
    return { credentials, orgId: await this.client.organizationId() };
  }

  /** Who is signed in where, the role, the queue and whether the server answers. */
  async status(): Promise<TeamStatus> {
    const credentials = await this.client.signIn();
    const counts = this.queueCounts(credentials);
    const signedOut = (problem: ErrorData | null): TeamStatus => ({
      signedIn: false,
      serverUrl: null,
      user: null,
      organization: null,
      organizations: [],
      lastSyncAt: null,
      queue: counts,
      offline: false,
      problem,
    });
    if (credentials === undefined) return signedOut(null);
    let memberships: Membership[] = [];
    let offline = false;
    let problem: ErrorData | null = null;
    try {
      memberships = (await this.organizations()).organizations;
    } catch (error) {
      if (!isAppError(error)) throw error;
      // A refused refresh signed the member out: say why, once.
      if (error.code === 'UNAUTHENTICATED' && (await this.client.signIn()) === undefined)
        return signedOut(toErrorData(error));
      offline = isTransient(error);
      problem = toErrorData(error);
      memberships = this.cachedMemberships(credentials);
    }
    const orgId = credentials.organizationId;
    return {
      signedIn: true,
      serverUrl: credentials.serverUrl,
      user: credentials.user,
      organization: memberships.find((m) => m.id === orgId) ?? null,
      organizations: memberships,
      lastSyncAt: orgId === null ? null : this.store.lastSync(credentials.serverUrl, orgId),
      queue: counts,
      offline,
      problem,
    };
  }

  /** The member's organisations and roles (cached as the sign-in's `me`). */
  async organizations(): Promise<{ organizations: Membership[]; syncedAt: string }> {
    const credentials = await this.client.requireSignIn();
    const me = await this.client.request<{ organizations: Membership[] }>('GET', '/me');
    const syncedAt = this.store.putList(
      credentials.serverUrl,
      '',
      `me:${credentials.user.id}`,
      me.body,
    );
    return { organizations: me.body.organizations, syncedAt };
  }

  private cachedMemberships(credentials: TeamCredentials): Membership[] {
    const cached = this.store.getList(credentials.serverUrl, '', `me:${credentials.user.id}`);
    return (cached?.body as { organizations?: Membership[] } | undefined)?.organizations ?? [];
  }

  /** Picks the organisation to work in; it must be one of the member's. */
  async pickOrganization(organizationId: string): Promise<Membership> {
    const credentials = await this.client.requireSignIn();
    let memberships: Membership[];
    try {
      memberships = (await this.organizations()).organizations;
    } catch (error) {
      if (!isTransient(error)) throw error;
      memberships = this.cachedMemberships(credentials);
    }
    const picked = memberships.find((m) => m.id === organizationId);
    if (picked === undefined)
      throw new AppError(
        'NOT_FOUND',
        `You are not a member of organisation ${organizationId}; pick one of yours (${memberships.map((m) => m.name).join(', ') || 'none yet: ask an admin to invite you'}).`,
      );
    await this.client.pickOrganization(organizationId);
    return picked;
  }

  /**
   * One of the organisation's lists: live when the server answers (and cached), else the
   * last known one with its age. Never synced and unreachable: the network error.
   */
  async list(kind: SyncList): Promise<Listed> {
    const { credentials, orgId } = await this.scope();
    try {
      const items = await this.allPages(`/organizations/${orgId}${SYNC_LISTS[kind]}`, kind);
      const syncedAt = this.store.putList(credentials.serverUrl, orgId, kind, { [kind]: items });
      return {
        items,
        syncedAt,
        offline: false,
        available: true,
        problem: null,
      };
    } catch (error) {
      if (isAppError(error) && error.code === 'NOT_FOUND' && error.message.startsWith('No route'))
        return { items: [], syncedAt: null, offline: false, available: false, problem: null };
      if (!isTransient(error)) throw error;
      const cached = this.store.getList(credentials.serverUrl, orgId, kind);
      if (cached === undefined)
        throw new AppError(
          (error as AppError).code,
          `${(error as AppError).message} Nothing of this organisation's ${kind} was synced to this machine yet.`,
        );
      return {
        items: itemsOf(cached.body, kind),
        syncedAt: cached.syncedAt,
        offline: true,
        available: true,
        problem: toErrorData(error),
      };
    }
  }

  /**
   * Every page of a list (`?limit=&cursor=`, answers with `nextCursor`), up to MAX_ROWS;
   * a server that does not page answers everything at once without `nextCursor`.
   */
  private async allPages(path: string, kind: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let cursor: string | undefined;
    do {
      const answer = await this.client.request<{ nextCursor?: string | null }>('GET', path, {
        query: { limit: PAGE, cursor },
      });
      items.push(...itemsOf(answer.body, kind));
      cursor = answer.body?.nextCursor ?? undefined;
    } while (cursor !== undefined && items.length < MAX_ROWS);
    return items;
  }

  /**
   * Sends what the queue holds, then refreshes every list: what "Sync now" does.
   * Lists that fail are reported, not fatal.
   */
  async sync(): Promise<{
    delivered: number;
    remaining: number;
    lists: Record<string, ErrorData | null>;
  }> {
    const sent = await this.deliver();
    const lists: Record<string, ErrorData | null> = {};
    // The member's organisations and roles too: offline, the app still knows the role.
    try {
      await this.organizations();
      lists.organizations = null;
    } catch (error) {
      lists.organizations = toErrorData(error);
    }
    for (const kind of SYNC_LIST_NAMES) {
      try {
        const listed = await this.list(kind);
        lists[kind] = listed.problem;
      } catch (error) {
        lists[kind] = toErrorData(error);
      }
    }
    return { ...sent, lists };
  }

  // --- the offline queue ------------------------------------------------------------------

  private queueCounts(credentials: TeamCredentials | undefined): {
    pending: number;
    failed: number;
  } {
    const mine = this.store
      .outbox()
      .filter((i) => credentials === undefined || this.isMine(i, credentials));
    return {
      pending: mine.filter((i) => i.state === 'pending').length,
      failed: mine.filter((i) => i.state === 'failed').length,
    };
  }

  /** Queued by this member on this server: only they may send it (the audit names them). */
  private isMine(item: OutboxItem, credentials: TeamCredentials): boolean {
    return item.serverUrl === credentials.serverUrl && item.userId === credentials.user.id;
  }

  queue(): OutboxItem[] {
    return this.store.outbox();
  }

  /**
   * Queues a write of the picked organisation (made durable first, with its key), then
   * sends the queue. Sent: the server's answer. Unreachable: kept for later. Refused for
   * good (a role that may not, bad input): dropped from the queue and thrown, since the
   * person is told now.
   */
  async submit(
    action: string,
    method: OutboxItem['method'],
    path: string,
    body?: unknown,
    localRef?: string,
  ): Promise<Submitted> {
    const { credentials, orgId } = await this.scope();
    const item = this.store.enqueue({
      serverUrl: credentials.serverUrl,
      orgId,
      userId: credentials.user.id,
      action,
      method,
      path,
      ...(body !== undefined ? { body } : {}),
      ...(localRef !== undefined ? { localRef } : {}),
    });
    await this.deliver();
    // Joined a delivery that had already passed this row: one more, which starts after it.
    if (!this.outcomes.has(item.seq)) await this.deliver();
    const outcome = this.outcomes.get(item.seq);
    this.outcomes.delete(item.seq);
    if (outcome?.ok === true) return { queued: false, seq: item.seq, result: outcome.body };
    if (outcome?.ok === false && this.store.item(item.seq)?.state === 'failed') {
      this.store.discard(item.seq);
      throw new AppError(outcome.error.code, outcome.error.message);
    }
    const reason =
      outcome?.ok === false
        ? outcome.error
        : toErrorData(
            new AppError(
              'UNAVAILABLE',
              'Queued behind earlier changes that could not be sent yet.',
            ),
          );
    return { queued: true, seq: item.seq, reason };
  }

  /**
   * Whether the member's role in the picked organisation allows `action`, as the server
   * last said (`/me`, cached for offline use); undefined when never seen on this machine.
   */
  async lastKnownRole(): Promise<{ role: Role; allowed: (a: Action) => boolean } | undefined> {
    const credentials = await this.client.requireSignIn();
    const role = this.cachedMemberships(credentials).find(
      (m) => m.id === credentials.organizationId,
    )?.role;
    return role === undefined
      ? undefined
      : { role, allowed: (a) => isAllowed({ kind: 'member', role }, a) };
  }

  /**
   * Sends the member's pending actions, oldest first, each with its own key, one delivery
   * at a time (concurrent callers share it). Stops at the first that cannot get through
   * (order is kept); one the server refuses for good is marked failed and the rest go on.
   */
  deliver(): Promise<{ delivered: number; remaining: number }> {
    this.delivering ??= this.deliverOnce().finally(() => {
      this.delivering = undefined;
    });
    return this.delivering;
  }

  private async deliverOnce(): Promise<{ delivered: number; remaining: number }> {
    const credentials = await this.client.signIn();
    if (credentials === undefined)
      return { delivered: 0, remaining: this.queueCounts(undefined).pending };
    let delivered = 0;
    let after = 0;
    for (;;) {
      // Read afresh each time: actions queued during this delivery are sent by it too.
      const next = this.store
        .outbox()
        .find((i) => i.seq > after && i.state === 'pending' && this.isMine(i, credentials));
      if (next === undefined) break;
      after = next.seq;
      try {
        const body = await this.send(next);
        const id = (body as { id?: unknown } | null)?.id;
        if (next.localRef !== null && typeof id === 'string')
          this.store.mapId(next.serverUrl, next.orgId, next.localRef, id);
        this.store.delivered(next.seq);
        this.outcomes.set(next.seq, { ok: true, body });
        delivered++;
      } catch (error) {
        const data = toErrorData(error);
        this.outcomes.set(next.seq, { ok: false, error: data });
        // Unreachable, busy, or signed out: keep it (and everything after it) for later.
        if (isTransient(error) || data.code === 'UNAUTHENTICATED' || data.code === 'CANCELLED') {
          this.store.attempted(next.seq, data, 'pending');
          break;
        }
        this.store.attempted(next.seq, data, 'failed');
      }
    }
    return { delivered, remaining: this.queueCounts(credentials).pending };
  }

  /**
   * One queued action to the server, its local references replaced by server ids; a
   * creation whose record the organisation already has takes that one (SAME_ON_SERVER).
   */
  private async send(item: OutboxItem): Promise<unknown> {
    const lookup = (ref: string) => this.store.serverId(item.serverUrl, item.orgId, ref);
    const path = resolvePath(item.path, lookup);
    const body = resolveBody(item.body, lookup);
    const same =
      item.localRef !== null && item.method === 'POST'
        ? SAME_ON_SERVER[item.localRef.split(':')[0] as LocalKind]
        : undefined;
    if (same !== undefined) {
      const wanted = (body as Record<string, unknown>)[same.key];
      const existing = (
        await this.allPages(`/organizations/${item.orgId}/${same.list}`, same.list)
      ).find((r) => r[same.key] === wanted);
      if (existing !== undefined) return existing;
    }
    const answer = await this.client.request(item.method, `/organizations/${item.orgId}${path}`, {
      body,
      idempotencyKey: item.idempotencyKey,
    });
    return answer.body;
  }

  retry(seq: number): boolean {
    return this.store.retry(seq);
  }

  discard(seq: number): boolean {
    return this.store.discard(seq);
  }

  // --- online-only tasks (admins; the server checks every one) -----------------------------

  private async org<T>(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    body?: unknown,
    query?: Record<string, string | number | undefined>,
  ): Promise<T> {
    const { orgId } = await this.scope();
    const answer = await this.client.request<T>(method, `/organizations/${orgId}${path}`, {
      ...(body !== undefined ? { body } : {}),
      ...(query !== undefined ? { query } : {}),
    });
    return answer.body;
  }

  async setRole(userId: string, role: Role): Promise<void> {
    await this.org('PATCH', `/members/${encodeURIComponent(userId)}`, { role });
    await this.list('members').catch(() => undefined);
  }

  async removeMember(userId: string): Promise<void> {
    await this.org('DELETE', `/members/${encodeURIComponent(userId)}`);
    await this.list('members').catch(() => undefined);
  }

  async apiKeys(): Promise<{ apiKeys: Record<string, unknown>[] }> {
    const { orgId } = await this.scope();
    return { apiKeys: await this.allPages(`/organizations/${orgId}/api-keys`, 'apiKeys') };
  }

  createApiKey(body: { name: string; scopes: string[]; expiresInDays: number }) {
    return this.org<Record<string, unknown> & { key: string }>('POST', '/api-keys', body);
  }

  async revokeApiKey(id: string): Promise<void> {
    await this.org('DELETE', `/api-keys/${encodeURIComponent(id)}`);
  }

  /** One page of the audit log, newest first (`nextCursor` for the next, on paging servers). */
  audit(query: Record<string, string | number | undefined>) {
    return this.org<{ entries: Record<string, unknown>[]; nextCursor?: string | null }>(
      'GET',
      '/audit',
      undefined,
      query,
    );
  }

  async sessions(): Promise<{ sessions: Record<string, unknown>[] }> {
    return (
      await this.client.request<{ sessions: Record<string, unknown>[] }>('GET', '/me/sessions')
    ).body;
  }

  async revokeSession(sessionId: string): Promise<void> {
    await this.client.request('DELETE', `/me/sessions/${encodeURIComponent(sessionId)}`);
  }

  // --- for the catalog screens in sync mode (synced-catalog.ts) -----------------------------

  /**
   * The last synced copy of a list, without asking the server; fetched once when this
   * machine never synced it (unreachable then: none). Used to name what other lists
   * refer to by server id.
   */
  async cachedList(kind: SyncList): Promise<Record<string, unknown>[]> {
    const { credentials, orgId } = await this.scope();
    const cached = this.store.getList(credentials.serverUrl, orgId, kind);
    if (cached !== undefined) return itemsOf(cached.body, kind);
    return (await this.list(kind).catch(() => undefined))?.items ?? [];
  }

  /** The member's place in the picked organisation: live, else the last known (null: none). */
  async membership(): Promise<Membership | null> {
    const { credentials, orgId } = await this.scope();
    let memberships: Membership[];
    try {
      memberships = (await this.organizations()).organizations;
    } catch (error) {
      if (!isAppError(error)) throw error;
      memberships = this.cachedMemberships(credentials);
    }
    return memberships.find((m) => m.id === orgId) ?? null;
  }
}

/** The list in an answer: `{ <kind>: [...] }` as the server answers, or a bare array. */
function itemsOf(body: unknown, kind: string): Record<string, unknown>[] {
  if (Array.isArray(body)) return body as Record<string, unknown>[];
  const named = (body as Record<string, unknown> | null)?.[kind];
  if (Array.isArray(named)) return named as Record<string, unknown>[];
  // Another shape (a paginated `{ items, next }`): its one array.
  const arrays = Object.values((body as Record<string, unknown> | null) ?? {}).filter(
    Array.isArray,
  );
  return arrays.length === 1 ? (arrays[0] as Record<string, unknown>[]) : [];
}
