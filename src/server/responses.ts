import { z } from 'zod';
import { ROLES } from '../shared/rbac.js';
import { API_KEY_SCOPES } from '../shared/rbac.js';
import { ScheduleInputSchema } from '../shared/schedules.js';
import { PLANS } from './routes/billing.js';

/**
 * What every route answers on success, as zod schemas, for the OpenAPI document
 * (openapi.ts turns them into its response schemas). One table keyed by "METHOD url", so
 * openapi.test.ts can prove that every route the server registers is described, and
 * check real answers against what is documented. Routes answering 204 or a redirect
 * have no body and no entry; a route that answers a file is described by its media types.
 */

const timestamp = z.string().datetime().describe('An ISO 8601 time (UTC).');
const cursor = z
  .string()
  .nullable()
  .describe('Pass back as ?cursor= for the next page; null on the last one.');
const role = z.enum(ROLES);
const count = z.number().int().nonnegative();

const Organisation = z.object({ id: z.string(), name: z.string(), role });

const AuditEntry = z.object({
  timestamp,
  level: z.enum(['info', 'warn']),
  event: z.string(),
  actor: z.object({
    id: z.string().nullable(),
    email: z.string().nullable(),
    ip: z.string().nullable(),
  }),
  resource: z.object({ type: z.string(), id: z.string().nullable() }),
  organization: z.string().nullable(),
  metadata: z.record(z.unknown()),
  seq: z.number().int().nullable().describe('Its place in the hash chain; null until linked.'),
  hash: z.string().nullable(),
});

const Project = z.object({
  id: z.string(),
  name: z.string(),
  firebaseProjectId: z.string(),
  createdAt: timestamp,
});

const Backup = z.object({
  id: z.string(),
  projectId: z.string(),
  createdAt: timestamp,
  createdBy: z.string(),
  keyId: z.string().nullable(),
  sizeBytes: z.number().nullable(),
  documentCount: z.number().nullable(),
  backupId: z.string().nullable(),
  sources: z.array(z.string()).nullable(),
  /** Where its archive lives (null on records made before the app sent it). */
  destinationId: z.string().nullable(),
  destinationUrl: z.string().nullable(),
});

const ApiKey = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(z.enum(API_KEY_SCOPES)),
  createdBy: z.string(),
  createdAt: timestamp,
  expiresAt: timestamp.nullable(),
  lastUsedAt: timestamp.nullable(),
  revokedAt: timestamp.nullable(),
});

const Destination = z.object({
  id: z.string(),
  name: z.string(),
  url: z.string(),
  kind: z.string().describe('local, s3 or gs'),
  bucket: z.string().optional(),
  prefix: z.string().optional(),
  folder: z.string().optional(),
  options: z.record(z.unknown()),
  createdBy: z.string(),
  createdAt: timestamp,
  updatedAt: timestamp,
});

const Schedule = ScheduleInputSchema.extend({
  id: z.string(),
  paused: z.boolean(),
  createdBy: z.string(),
  createdAt: timestamp,
  updatedAt: timestamp,
});

const Run = z.object({
  id: z.string(),
  projectId: z.string(),
  scheduleId: z.string().nullable(),
  destinationId: z.string().nullable(),
  status: z.enum(['started', 'finished', 'failed']),
  startedAt: timestamp,
  finishedAt: timestamp.nullable(),
  documentCount: z.number().nullable(),
  bytes: z.number().nullable(),
  errorMessage: z.string().nullable(),
  errorCode: z.string().nullable().describe("The engine's error code when the run failed."),
  backupId: z.string().nullable(),
  reportedBy: z.string(),
  createdAt: timestamp,
});

const Invitation = z.object({
  id: z.string(),
  email: z.string(),
  role,
  createdBy: z.string(),
  createdAt: timestamp,
  expiresAt: timestamp,
});

const Billing = z.object({
  plan: z.enum(PLANS),
  billingEmail: z.string().nullable(),
  updatedAt: timestamp.nullable(),
  updatedBy: z.string().nullable(),
});

const VerifyResult = z.object({
  ok: z.boolean(),
  entries: count,
  brokenAt: z.number().int().optional().describe('The first sequence number that fails.'),
  reason: z.string().optional(),
  prunedThrough: z.number().int().optional(),
  pending: count.optional().describe('Committed entries not linked into the chain yet.'),
});

const mfa = z
  .enum(['none', 'verify', 'enroll'])
  .describe('verify or enroll: the session may call only the MFA routes until it does.');
const user = z.object({ id: z.string(), email: z.string() });

/** A sign-in's token pair in the body (Bearer clients). */
const TokenPair = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  expiresIn: z.number().int().describe('Seconds until the access token expires.'),
  sessionId: z.string(),
});
/** A browser's sign-in: the pair went into cookies; the body has the CSRF token to echo. */
const CookieSession = z.object({
  sessionId: z.string(),
  expiresIn: z.number().int(),
  csrfToken: z.string(),
});
const signedIn = (extra: z.ZodRawShape) =>
  z.union([TokenPair.extend(extra), CookieSession.extend(extra)]);

const page = <K extends string>(key: K, item: z.ZodTypeAny) =>
  z.object({ [key]: z.array(item), nextCursor: cursor } as Record<K | 'nextCursor', z.ZodTypeAny>);

const ORG = '/api/v1/organizations/:orgId';

/** A route's successful answer: JSON by a zod schema, or a file in one of its media types. */
export type ResponseDoc = z.ZodTypeAny | { file: readonly string[] };

export const RESPONSES: Readonly<Record<string, ResponseDoc>> = {
  'GET /healthz': z.object({ status: z.literal('ok') }),
  'GET /readyz': z.object({
    status: z.literal('ready'),
    database: z.enum(['pglite', 'postgres']),
    redis: z.literal('ok').optional(),
  }),
  'GET /api/v1/openapi.json': z
    .object({ openapi: z.string(), paths: z.record(z.unknown()) })
    .passthrough(),

  'POST /api/v1/auth/login': signedIn({ user, mfa }),
  'POST /api/v1/auth/token': TokenPair.extend({ user, mfa }),
  'POST /api/v1/auth/refresh': signedIn({ userId: z.string() }),
  'GET /api/v1/me': z.union([
    z.object({ user, organizations: z.array(Organisation) }),
    z.object({
      apiKey: z.object({
        id: z.string(),
        organization: z.string(),
        scopes: z.array(z.enum(API_KEY_SCOPES)),
      }),
    }),
  ]),
  'GET /api/v1/me/sessions': z.object({
    sessions: z.array(
      z.object({
        id: z.string(),
        createdAt: timestamp,
        lastSeenAt: timestamp,
        expiresAt: timestamp,
        current: z.boolean(),
      }),
    ),
  }),
  'GET /api/v1/auth/mfa': z.object({
    enabled: z.boolean(),
    pending: z.boolean(),
    required: z.boolean(),
    recoveryCodesLeft: count,
  }),
  'POST /api/v1/auth/mfa/enroll': z.object({
    secret: z.string().describe('Base32; shown this once.'),
    otpauthUri: z.string(),
  }),
  'POST /api/v1/auth/mfa/confirm': z.object({
    recoveryCodes: z.array(z.string()).describe('One-use codes, shown this once.'),
  }),
  'POST /api/v1/auth/mfa/verify': z.object({ verified: z.literal(true) }),
  'POST /api/v1/invitations/accept': z.object({
    organization: z.object({ id: z.string(), name: z.string() }),
    role,
  }),

  'POST /api/v1/organizations': Organisation,
  [`GET ${ORG}`]: Organisation.extend({ createdAt: timestamp }),
  [`GET ${ORG}/members`]: page(
    'members',
    z.object({
      userId: z.string(),
      email: z.string(),
      name: z.string().nullable(),
      role,
      joinedAt: timestamp,
    }),
  ),
  [`PATCH ${ORG}/members/:userId`]: z.object({ userId: z.string(), role }),
  [`GET ${ORG}/api-keys`]: page('apiKeys', ApiKey),
  [`POST ${ORG}/api-keys`]: ApiKey.pick({
    id: true,
    name: true,
    prefix: true,
    scopes: true,
  }).extend({
    expiresAt: timestamp,
    key: z
      .string()
      .nullable()
      .describe('The key itself, in this answer only (null when the answer is replayed).'),
  }),
  [`GET ${ORG}/audit`]: page('entries', AuditEntry),
  [`GET ${ORG}/audit/export`]: { file: ['application/x-ndjson', 'text/csv'] },
  [`GET ${ORG}/audit/verify`]: VerifyResult,
  [`GET ${ORG}/projects`]: page('projects', Project),
  [`POST ${ORG}/projects`]: Project.omit({ createdAt: true }),
  [`GET ${ORG}/projects/:projectId`]: Project,
  [`PATCH ${ORG}/projects/:projectId`]: Project,
  [`GET ${ORG}/backups`]: page('backups', Backup),
  [`POST ${ORG}/backups`]: z.object({
    id: z.string(),
    projectId: z.string(),
    keyId: z.string().optional(),
    sizeBytes: z.number().optional(),
    documentCount: z.number().optional(),
    backupId: z.string().optional(),
    sources: z.array(z.string()).optional(),
    destinationId: z.string().optional(),
    destinationUrl: z.string().optional(),
  }),
  [`GET ${ORG}/invitations`]: z.object({ invitations: z.array(Invitation) }),
  [`POST ${ORG}/invitations`]: Invitation.pick({ id: true, email: true, role: true }).extend({
    expiresAt: timestamp,
    token: z.string().describe('The link token (fbi_…), in this answer only.'),
  }),
  [`POST ${ORG}/ownership`]: z.object({
    owner: z.string(),
    previousOwner: z.object({ userId: z.string(), role }),
  }),
  [`GET ${ORG}/destinations`]: page('destinations', Destination),
  [`GET ${ORG}/destinations/:destinationId`]: Destination,
  [`POST ${ORG}/destinations`]: Destination,
  [`PATCH ${ORG}/destinations/:destinationId`]: Destination,
  [`GET ${ORG}/schedules`]: page('schedules', Schedule),
  [`GET ${ORG}/schedules/:scheduleId`]: Schedule,
  [`POST ${ORG}/schedules`]: Schedule,
  [`PATCH ${ORG}/schedules/:scheduleId`]: Schedule,
  [`GET ${ORG}/runs`]: page('runs', Run),
  [`POST ${ORG}/runs`]: Run,
  [`PATCH ${ORG}/runs/:runId`]: Run,
  [`GET ${ORG}/billing`]: Billing,
  [`PATCH ${ORG}/billing`]: Billing,
};
