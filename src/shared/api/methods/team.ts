import { z } from 'zod';
import { ErrorDataSchema } from '../../jobs.js';
import { API_KEY_SCOPES, ROLES } from '../../rbac.js';
import { entityId, method } from '../define.js';

/**
 * Team sync mode (docs/desktop.md): the app signed into an organisation server. The
 * engine talks to the server; these methods are what the screens need. The server checks
 * every call against the member's role; the app only hides what the role cannot do.
 */

const when = z.string().nullable();
const Role = z.enum(ROLES);

export const MembershipSchema = z.object({ id: z.string(), name: z.string(), role: Role });
export type Membership = z.infer<typeof MembershipSchema>;

export const TeamStatusSchema = z.object({
  signedIn: z.boolean(),
  serverUrl: z.string().nullable(),
  user: z.object({ id: z.string(), email: z.string() }).nullable(),
  /** The picked organisation and the member's role in it (null: none picked). */
  organization: MembershipSchema.nullable(),
  organizations: z.array(MembershipSchema),
  /** When this organisation's lists were last fetched (null: never). */
  lastSyncAt: when,
  /** Actions waiting to be sent, and those the server refused for good. */
  queue: z.object({ pending: z.number().int(), failed: z.number().int() }),
  /** The server could not be reached: what is shown is the last known state. */
  offline: z.boolean(),
  problem: ErrorDataSchema.nullable(),
  /**
   * A sign-in under way (its address, for the web mode to open; the second factor it owes,
   * details in team.signIn.state) or its failure.
   */
  signIn: z.object({
    pending: z.boolean(),
    url: z.string().nullable(),
    error: ErrorDataSchema.nullable(),
    secondFactor: z.enum(['code', 'enrol']).nullable(),
  }),
});
export type TeamStatus = z.infer<typeof TeamStatusSchema>;

/** A list kept for offline reading, and how fresh it is. */
const listed = <T extends z.ZodTypeAny>(item: T) =>
  z.object({
    items: z.array(item),
    syncedAt: when,
    offline: z.boolean(),
    /** False when this server does not offer the list yet. */
    available: z.boolean(),
    problem: ErrorDataSchema.nullable(),
  });

export const TEAM_LISTS = ['projects', 'backups', 'destinations', 'schedules', 'runs'] as const;

export const MemberSchema = z.object({
  userId: z.string(),
  email: z.string(),
  name: z.string().nullable(),
  role: Role,
  joinedAt: z.string(),
});
export type Member = z.infer<typeof MemberSchema>;

export const ApiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(z.string()),
  createdAt: when.optional(),
  expiresAt: when,
  lastUsedAt: when.optional(),
  revokedAt: when.optional(),
});
export type ApiKey = z.infer<typeof ApiKeySchema>;

export const AuditEntrySchema = z.object({
  /** Its place in the hash chain; null for a moment after it is written (not linked yet). */
  seq: z.number().nullable(),
  timestamp: z.string(),
  level: z.string(),
  event: z.string(),
  actor: z.object({ id: z.string().nullable(), email: z.string().nullable() }).passthrough(),
  resource: z.object({ type: z.string(), id: z.string().nullable() }),
  metadata: z.record(z.unknown()),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

export const SessionSchema = z.object({
  id: z.string(),
  createdAt: z.string(),
  lastSeenAt: z.string(),
  expiresAt: z.string(),
  current: z.boolean(),
});
export type TeamSession = z.infer<typeof SessionSchema>;

export const QueueItemSchema = z.object({
  seq: z.number().int(),
  action: z.string(),
  organizationId: z.string(),
  createdAt: z.string(),
  attempts: z.number().int(),
  lastError: ErrorDataSchema.nullable(),
  state: z.enum(['pending', 'failed']),
  /** Queued by this member on this server (others wait for them to sign in again). */
  mine: z.boolean(),
});
export type QueueItem = z.infer<typeof QueueItemSchema>;

/** A queued action: sent now (the server's answer) or kept to be sent later. */
const SubmittedSchema = z.object({
  queued: z.boolean(),
  seq: z.number().int(),
  result: z.unknown().optional(),
  reason: ErrorDataSchema.optional(),
});

const none = z.object({}).strict();
const done = z.object({ ok: z.literal(true) });

export const teamMethods = {
  'team.status': method({
    description:
      'Signed in? To which server, as whom, in which organisation and role; last sync, queue, offline.',
    input: none,
    output: TeamStatusSchema,
    permission: 'backups:view',
  }),
  'team.signIn': method({
    description:
      'Start signing in to an organisation server in the system browser; answers the address to open (the web mode opens it itself). Then team.signIn.state, and team.signIn.secondFactor when the server demands one.',
    input: z.object({ serverUrl: z.string().trim().url('the server address, https://…') }).strict(),
    output: z.object({ step: z.literal('browser'), url: z.string(), opened: z.boolean() }),
    permission: 'backups:view',
  }),
  'team.signOut': method({
    description: 'Sign out here (and end the session on the server when it answers).',
    input: none,
    output: z.object({ wasSignedIn: z.boolean(), serverReached: z.boolean(), queued: z.number() }),
    permission: 'backups:view',
  }),
  'team.pickOrganization': method({
    description: 'Pick the organisation to work in (one of yours).',
    input: z.object({ organizationId: entityId }).strict(),
    output: MembershipSchema,
    permission: 'backups:view',
  }),
  'team.sync': method({
    description: 'Send the queued actions, then fetch every list again.',
    input: none,
    output: z.object({
      delivered: z.number().int(),
      remaining: z.number().int(),
      lists: z.record(ErrorDataSchema.nullable()),
    }),
    permission: 'backups:view',
  }),
  'team.list': method({
    description:
      "One of the organisation's shared lists, live or (offline) the last known one with its age.",
    input: z.object({ list: z.enum(TEAM_LISTS) }).strict(),
    output: listed(z.record(z.unknown())),
    permission: 'backups:view',
  }),
  'team.members.list': method({
    description: 'The members and their roles (the last known list when offline).',
    input: none,
    output: listed(MemberSchema),
    permission: 'backups:view',
  }),
  'team.members.setRole': method({
    description: "Change a member's role (admins and owners; only owners touch owners).",
    input: z.object({ userId: entityId, role: Role }).strict(),
    output: done,
    permission: 'members:manage',
  }),
  'team.members.remove': method({
    description: 'Remove a member from the organisation (admins and owners).',
    input: z.object({ userId: entityId }).strict(),
    output: done,
    permission: 'members:manage',
  }),
  'team.apiKeys.list': method({
    description: "The organisation's API keys (never the keys themselves).",
    input: none,
    output: z.object({ apiKeys: z.array(ApiKeySchema) }),
    permission: 'members:manage',
  }),
  'team.apiKeys.create': method({
    description: 'Make an API key; the key is in this answer only.',
    input: z
      .object({
        name: z.string().trim().min(1, 'name the key (what uses it)').max(100),
        scopes: z.array(z.enum(API_KEY_SCOPES)).min(1, 'pick at least one scope'),
        expiresInDays: z.number().int().positive().max(3650).default(90),
      })
      .strict(),
    output: ApiKeySchema.extend({ key: z.string() }),
    permission: 'members:manage',
  }),
  'team.apiKeys.revoke': method({
    description: 'Revoke an API key: it stops working at once.',
    input: z.object({ id: entityId }).strict(),
    output: done,
    permission: 'members:manage',
  }),
  'team.audit.search': method({
    description: "Search the organisation's audit log, newest first.",
    input: z
      .object({
        event: z.string().trim().min(1).max(100).optional(),
        actor: z.string().trim().min(1).max(200).optional(),
        /** The `nextCursor` of the page before (older entries). */
        cursor: z.string().max(400).optional(),
        limit: z.number().int().min(1).max(200).default(100),
      })
      .strict(),
    output: z.object({
      entries: z.array(AuditEntrySchema),
      nextCursor: z.string().nullable().optional(),
    }),
    permission: 'members:manage',
  }),
  'team.sessions.list': method({
    description: 'Your live sessions on the server (this one marked current).',
    input: none,
    output: z.object({ sessions: z.array(SessionSchema) }),
    permission: 'backups:view',
  }),
  'team.sessions.revoke': method({
    description: 'End one of your sessions.',
    input: z.object({ sessionId: entityId }).strict(),
    output: done,
    permission: 'backups:view',
  }),
  'team.projects.create': method({
    description:
      'Add a project to the organisation; queued (sent later, once) when the server is unreachable.',
    input: z
      .object({
        name: z.string().trim().min(1).max(200),
        firebaseProjectId: z.string().regex(/^[a-z0-9-]{4,40}$/, 'a Firebase project id'),
      })
      .strict(),
    output: SubmittedSchema,
    permission: 'projects:manage',
  }),
  'team.backups.record': method({
    description:
      "Record a backup's metadata in the organisation's catalog; queued when the server is unreachable.",
    input: z
      .object({
        projectId: entityId,
        keyId: z.string().max(200).optional(),
        sizeBytes: z.number().int().nonnegative().optional(),
        documentCount: z.number().int().nonnegative().optional(),
      })
      .strict(),
    output: SubmittedSchema,
    permission: 'backups:create',
  }),
  'team.queue.list': method({
    description: 'Actions waiting to be sent to the server, oldest first, and those it refused.',
    input: none,
    output: z.object({ items: z.array(QueueItemSchema) }),
    permission: 'backups:view',
  }),
  'team.queue.retry': method({
    description: 'Send a refused action again (after fixing what the server said).',
    input: z.object({ seq: z.number().int().positive() }).strict(),
    output: done,
    permission: 'backups:view',
  }),
  'team.queue.discard': method({
    description: 'Drop a queued action: it will never be sent.',
    input: z.object({ seq: z.number().int().positive() }).strict(),
    output: done,
    permission: 'backups:view',
  }),
};
