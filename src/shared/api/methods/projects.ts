import { z } from 'zod';
import { entityId, method } from '../define.js';
import { withOrigin } from './sync.js';

/** A Firebase project id as the console shows it. */
export const FirebaseProjectIdSchema = z
  .string()
  .trim()
  .regex(
    /^[a-z0-9-]{1,63}$/,
    'a Firebase project id like "my-app-123" (lower-case letters, digits, -)',
  );

/** host:port of a Firestore emulator. */
export const EmulatorHostSchema = z
  .string()
  .trim()
  .regex(/^[^/\s:]+:\d{1,5}$/, 'host:port, e.g. 127.0.0.1:8080');

/** Largest service-account JSON accepted (real ones are about 2.3 KB). */
export const MAX_SERVICE_ACCOUNT_BYTES = 64 * 1024;

/**
 * How FireBackup reaches a project: a local emulator, a service-account key (its JSON
 * content, kept by the engine in an owner-only file, never sent back), or the machine's
 * Application Default Credentials.
 */
export const ProjectConnectionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('emulator'), host: EmulatorHostSchema }).strict(),
  z
    .object({
      kind: z.literal('service-account'),
      json: z
        .string()
        .min(2, 'paste or choose the service-account key file')
        .max(MAX_SERVICE_ACCOUNT_BYTES, 'a service-account key file is a few KB; this is not one'),
    })
    .strict(),
  z.object({ kind: z.literal('default-credentials') }).strict(),
]);
export type ProjectConnection = z.infer<typeof ProjectConnectionSchema>;

export const ProjectAddSchema = z
  .object({
    name: z.string().trim().min(1, 'give the project a name').max(100),
    firebaseProjectId: FirebaseProjectIdSchema,
    databaseId: z.string().trim().min(1).max(100).default('(default)'),
    connection: ProjectConnectionSchema,
  })
  .strict();
export type ProjectAdd = z.input<typeof ProjectAddSchema>;

/** A project as the app shows it: how it connects, never a credential. */
export const ProjectViewSchema = z.object({
  id: entityId,
  name: z.string(),
  firebaseProjectId: z.string(),
  databaseId: z.string(),
  connection: z.enum(['emulator', 'service-account', 'default-credentials']),
  emulatorHost: z.string().nullable(),
  /** The service account's e-mail (not a secret), when one is used. */
  serviceAccountEmail: z.string().nullable(),
  createdAt: z.string(),
});
export type ProjectView = z.infer<typeof ProjectViewSchema>;

export const projectMethods = {
  'projects.list': method({
    description: 'The projects of the catalog.',
    input: z.object({}).strict(),
    output: z.array(withOrigin(ProjectViewSchema)),
    permission: 'backups:view',
  }),
  'projects.add': method({
    description:
      'Add a project: an emulator host, a service-account key (its JSON text; kept in an owner-only file, never echoed back) or default credentials.',
    input: ProjectAddSchema,
    output: ProjectViewSchema,
    permission: 'projects:manage',
  }),
  'projects.test': method({
    description: "Connect to a project's Firestore and list its root collections.",
    input: z.object({ projectId: entityId }).strict(),
    output: z.object({
      endpoint: z.string(),
      rootCollections: z.array(z.string()),
      latencyMs: z.number(),
    }),
    permission: 'backups:view',
  }),
  'projects.remove': method({
    description:
      'Remove a project from the catalog (its backups stay where they are). Refused while a schedule uses it.',
    input: z.object({ projectId: entityId }).strict(),
    output: z.object({ removed: z.literal(true) }),
    permission: 'projects:manage',
  }),
};
