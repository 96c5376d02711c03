import path from 'node:path';
import { zodToJsonSchema } from 'zod-to-json-schema';
import type { DestinationView } from '../../../shared/api/methods/destination-setup.js';
import { fieldsFromJsonSchema, type DestinationKind } from '../../../shared/destination-forms.js';
import { AppError } from '../../../shared/errors.js';
import {
  DestinationInputSchema,
  parseOrThrow,
  type DestinationRecord,
} from '../../catalog/projects.js';
import { Keyring } from '../../keys/keyring.js';
import { MasterKey } from '../../keys/master-key.js';
import { preflight } from '../../operations/preflight.js';
import { backendKinds, openDestination, schemeOf } from '../../storage/index.js';
import { parseServiceAccount } from '../../secrets/credential-files.js';
import {
  assertCanStoreSecret,
  deleteDestinationSecret,
  destinationsWithSecret,
  saveDestinationSecret,
  STORABLE_SECRET_OPTIONS,
  storedSecretOf,
} from '../../secrets/destination-secrets.js';
import type { HandlerContext, HandlersFor } from './context.js';
import { syncedCatalogOf } from './sync.js';

const LABELS: Record<string, string> = {
  s3: 'Amazon S3 or S3-compatible (MinIO, R2…)',
  gs: 'Google Cloud Storage',
};

function kindOf(url: string): string {
  const scheme = schemeOf(url);
  return scheme === undefined || scheme === 'file' ? 'local' : scheme;
}

export const destinationView = (d: DestinationRecord, secretSaved: boolean): DestinationView => ({
  id: d.id,
  name: d.name,
  url: d.url,
  kind: kindOf(d.url),
  options: d.options,
  secretSaved,
  createdAt: d.createdAt,
});

/**
 * Checks a secret given for a destination at `url` and returns the options to open it
 * with (the secret in its option), never echoing the secret in a message.
 */
function withSecret(url: string, options: Record<string, unknown>, secret: string | undefined) {
  if (secret === undefined) return options;
  const stored = storedSecretOf(url);
  if (!stored) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `A folder destination takes no secret (${url}). Leave the secret out.`,
    );
  }
  if (stored.kind === 'gcs-service-account') parseServiceAccount(secret);
  return { ...options, [stored.option]: secret };
}

/**
 * A local destination must be a full path: a relative one would be resolved against
 * whatever folder the app or the daemon happened to start in, and backups would land in
 * a different place depending on who made them.
 */
function checkUrl(url: string): void {
  if (kindOf(url) === 'local' && !schemeOf(url) && !path.isAbsolute(url)) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `"${url}" is not a full path. Give the folder's full path (e.g. /home/you/firebackup or C:\\Backups\\firebackup).`,
    );
  }
}

export function destinationSetupHandlers(
  context: HandlerContext,
): HandlersFor<
  | 'destinations.kinds'
  | 'destinations.list'
  | 'destinations.add'
  | 'destinations.update'
  | 'destinations.test'
  | 'destinations.remove'
> {
  const { runtime, keyring, dataDir, secrets } = context;
  const { catalog } = runtime;
  return {
    'destinations.kinds': async () => {
      const local: DestinationKind = {
        kind: 'local',
        label: 'A folder on this computer (or a mounted drive)',
        example: '/path/to/folder',
        suggestedUrl: path.join(dataDir, 'backups'),
        fields: [],
      };
      return [
        local,
        ...backendKinds().map((k): DestinationKind => ({
          kind: k.schemes[0]!,
          label: LABELS[k.schemes[0]!] ?? `${k.schemes[0]}://`,
          example: k.example,
          fields: fieldsFromJsonSchema(zodToJsonSchema(k.optionsSchema), STORABLE_SECRET_OPTIONS),
        })),
      ];
    },

    'destinations.list': async () => {
      const saved = await destinationsWithSecret(secrets);
      return syncedCatalogOf(context).destinations(
        catalog.destinations.list().map((d) => destinationView(d, saved.has(d.id))),
      );
    },

    'destinations.add': async ({ name, url, options, secret }) => {
      checkUrl(url);
      if (catalog.destinations.findByName(name) || catalog.destinations.findByUrl(url)) {
        throw new AppError(
          'ALREADY_EXISTS',
          `A destination with the name "${name}" or the location ${url} is already in the catalog. Choose another, or edit that one.`,
        );
      }
      // First the catalog's rules (no secrets), then the kind's schema (opening checks it).
      parseOrThrow(DestinationInputSchema, { name, url, options }, 'destination');
      await openDestination(url, withSecret(url, options, secret));
      // Refused before the row is written, so a destination never exists without the
      // secret it was given (Linux without a keyring, before the person agreed).
      if (secret !== undefined) assertCanStoreSecret(secrets);
      const added = catalog.destinations.upsert({ name, url, options });
      if (secret === undefined) return destinationView(added, false);
      try {
        await saveDestinationSecret(secrets, added, secret);
      } catch (error) {
        catalog.destinations.remove(added.id);
        throw error;
      }
      return destinationView(added, true);
    },

    'destinations.update': async ({ destinationId, options, secret }) => {
      const current = catalog.destinations.get(destinationId);
      parseOrThrow(
        DestinationInputSchema,
        { name: current.name, url: current.url, options },
        'destination',
      );
      // Checked with the secret it will be used with: the new one, else the saved one.
      if (secret === undefined) await runtime.openDestination({ ...current, options });
      else await openDestination(current.url, withSecret(current.url, options, secret));
      // The secret first: if it cannot be kept, the options stay as they were too.
      if (secret !== undefined) await saveDestinationSecret(secrets, current, secret);
      const updated = catalog.destinations.updateOptions(destinationId, options);
      return destinationView(updated, (await destinationsWithSecret(secrets)).has(destinationId));
    },

    'destinations.test': async (input) => {
      const url =
        'destinationId' in input ? catalog.destinations.get(input.destinationId).url : input.url;
      checkUrl(url);
      const destination =
        'destinationId' in input
          ? await runtime.openDestination(catalog.destinations.get(input.destinationId))
          : await openDestination(url, withSecret(url, input.options, input.secret));
      // The probe is sealed like a backup; before the first key exists (first run) a
      // throwaway key proves the same write/read/delete.
      const probeKeys = keyring.currentKey ? keyring : new Keyring(MasterKey.generate());
      const started = Date.now();
      await preflight(destination, probeKeys);
      return { displayUrl: destination.displayUrl, latencyMs: Date.now() - started };
    },

    'destinations.remove': async ({ destinationId }) => {
      const destination = catalog.destinations.get(destinationId);
      catalog.destinations.remove(destinationId);
      // After the row: a destination that stays (a schedule uses it) keeps its secret.
      await deleteDestinationSecret(secrets, destination);
      return { removed: true as const };
    },
  };
}
