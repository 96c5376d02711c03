import { z } from 'zod';
import { DestinationKindSchema } from '../../destination-forms.js';
import { entityId, method } from '../define.js';
import { withOrigin } from './sync.js';

/** Non-secret options of a destination (secrets come from the environment or the keychain). */
const OptionsSchema = z.record(z.unknown()).default({});

/**
 * The kind's one stored secret (S3 secret access key, GCS service-account JSON), kept in
 * the SecretStore, never in the catalog; it never crosses back (see `secretSaved`).
 */
const SecretSchema = z.string().min(1, 'give the secret, or leave it out').max(65_536).optional();

export const DestinationViewSchema = z.object({
  id: entityId,
  name: z.string(),
  url: z.string(),
  /** 'local', 's3', 'gs'. */
  kind: z.string(),
  options: z.record(z.unknown()),
  /** A secret is saved for it in the SecretStore (the value itself never leaves the engine). */
  secretSaved: z.boolean(),
  createdAt: z.string(),
});
export type DestinationView = z.infer<typeof DestinationViewSchema>;

const url = z.string().trim().min(1, 'give a folder path or a URL').max(2048);

export const destinationSetupMethods = {
  'destinations.kinds': method({
    description:
      'The kinds of destination (local folder, S3, GCS) with the fields of their options, from each back end’s schema.',
    input: z.object({}).strict(),
    output: z.array(DestinationKindSchema),
    permission: 'backups:view',
  }),
  'destinations.list': method({
    description: 'The destinations of the catalog.',
    input: z.object({}).strict(),
    output: z.array(withOrigin(DestinationViewSchema)),
    permission: 'backups:view',
  }),
  'destinations.add': method({
    description:
      'Add a destination: a local folder (full path) or an s3:// or gs:// URL, with its non-secret options.',
    input: z
      .object({
        name: z.string().trim().min(1, 'give it a name').max(100),
        url,
        options: OptionsSchema,
        secret: SecretSchema,
      })
      .strict(),
    output: DestinationViewSchema,
    permission: 'projects:manage',
  }),
  'destinations.update': method({
    description:
      "Replace a destination's options (its URL, and so its backups, stay), and its saved secret when one is given.",
    input: z
      .object({ destinationId: entityId, options: OptionsSchema, secret: SecretSchema })
      .strict(),
    output: DestinationViewSchema,
    permission: 'projects:manage',
  }),
  'destinations.test': method({
    description:
      'Write a small test object, read it back and delete it (what every backup checks first), for a saved destination or one being added.',
    input: z.union([
      z.object({ destinationId: entityId }).strict(),
      z.object({ url, options: OptionsSchema, secret: SecretSchema }).strict(),
    ]),
    output: z.object({ displayUrl: z.string(), latencyMs: z.number() }),
    permission: 'backups:view',
  }),
  'destinations.remove': method({
    description:
      'Forget a destination and its saved secret (its backups stay in storage; add it again to see them). Refused while a schedule uses it.',
    input: z.object({ destinationId: entityId }).strict(),
    output: z.object({ removed: z.literal(true) }),
    permission: 'projects:manage',
  }),
};
