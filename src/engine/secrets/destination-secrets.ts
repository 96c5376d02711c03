import { AppError } from '../../shared/errors.js';
import type { DestinationRecord } from '../catalog/projects.js';
import { openDestination, schemeOf, type StorageBackend } from '../storage/index.js';
import { secretName, type SecretKind, type SecretStore } from './secret-store.js';

/**
 * A destination's one stored secret (an S3 secret access key, a GCS service-account
 * key), kept in the SecretStore under the destination's id and never in the catalog: the
 * catalog row holds the non-secret options, the store `<kind>:<destination id>`. The
 * engine puts the secret into the options only when it opens the destination.
 *
 * Precedence, for the CLI and servers that are given credentials by their environment:
 * the environment's credentials win when set (AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY,
 * GOOGLE_APPLICATION_CREDENTIALS), then the stored secret, then the SDK's own chain.
 */
interface StoredSecret {
  /** The back end's option the secret fills ("Secret." in its schema). */
  option: string;
  kind: SecretKind;
  /** What the person calls it, for forms and messages. */
  label: string;
  /** Environment variables that, all set, stand in for the stored secret (they win). */
  env: readonly string[];
  /** The option that names the credential the secret belongs to; it goes with the env's. */
  pairedOption?: string;
}

const STORED: Record<string, StoredSecret> = {
  s3: {
    option: 'secretAccessKey',
    kind: 's3-secret-key',
    label: 'secret access key',
    env: ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'],
    pairedOption: 'accessKeyId',
  },
  gs: {
    option: 'credentialsJson',
    kind: 'gcs-service-account',
    label: 'service-account key (JSON)',
    env: ['GOOGLE_APPLICATION_CREDENTIALS'],
  },
};

/** The secret a destination at `url` can keep in the store, if its kind has one. */
export function storedSecretOf(url: string): StoredSecret | undefined {
  const scheme = schemeOf(url);
  return scheme ? STORED[scheme] : undefined;
}

/** The option names whose values may be stored (the forms offer an input for these). */
export const STORABLE_SECRET_OPTIONS: readonly string[] = Object.values(STORED).map(
  (s) => s.option,
);

const entryOf = (stored: StoredSecret, destinationId: string): string =>
  secretName(stored.kind, destinationId);

function secretFor(url: string): StoredSecret {
  const stored = storedSecretOf(url);
  if (!stored) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `A destination at ${url} takes no secret: folders need none. Leave the secret empty.`,
    );
  }
  return stored;
}

/**
 * Refuses before anything is written when the store cannot take a secret now (Linux
 * without a keyring, before the person agreed): the caller then changes nothing.
 */
export function assertCanStoreSecret(secrets: SecretStore): void {
  const p = secrets.protection();
  if (p.needsConsent) throw new AppError('PERMISSION_DENIED', p.message);
}

/** Keeps (or replaces) the destination's secret; the value is checked by opening it first. */
export async function saveDestinationSecret(
  secrets: SecretStore,
  destination: Pick<DestinationRecord, 'id' | 'url'>,
  value: string,
): Promise<void> {
  await secrets.set(entryOf(secretFor(destination.url), destination.id), value);
}

/** Forgets the destination's secret (when the destination is removed). */
export async function deleteDestinationSecret(
  secrets: SecretStore,
  destination: Pick<DestinationRecord, 'id' | 'url'>,
): Promise<boolean> {
  const stored = storedSecretOf(destination.url);
  return stored ? secrets.delete(entryOf(stored, destination.id)) : false;
}

/** Ids of the destinations whose secret is saved (from the store's names: nothing decrypted). */
export async function destinationsWithSecret(secrets: SecretStore): Promise<Set<string>> {
  const kinds = new Set<string>(Object.values(STORED).map((s) => s.kind));
  const ids = new Set<string>();
  for (const name of await secrets.names()) {
    const at = name.indexOf(':');
    if (at > 0 && kinds.has(name.slice(0, at))) ids.add(name.slice(at + 1));
  }
  return ids;
}

/**
 * The options to open a destination with: its catalog options plus, unless the
 * environment's credentials win, `secret` in the option it fills. Pure: tested alone.
 */
export function optionsWithSecret(
  destination: Pick<DestinationRecord, 'name' | 'url' | 'options'>,
  secret: string | undefined,
  env: NodeJS.ProcessEnv,
): Record<string, unknown> {
  const stored = storedSecretOf(destination.url);
  if (!stored) return destination.options;
  if (stored.env.every((name) => env[name])) {
    // The environment's credentials are used whole: a stored access key id must not be
    // paired with the environment's secret (nor the reverse).
    const { [stored.option]: _secret, ...rest } = destination.options;
    if (stored.pairedOption) delete rest[stored.pairedOption];
    return rest;
  }
  if (secret !== undefined) return { ...destination.options, [stored.option]: secret };
  if (stored.pairedOption && destination.options[stored.pairedOption] !== undefined) {
    throw new AppError(
      'UNAUTHENTICATED',
      `No ${stored.label} is saved for the destination "${destination.name}". Enter it on the Destinations screen (Edit), or set ${stored.env.join(' and ')} for the process that runs backups.`,
    );
  }
  return destination.options;
}

/** Opens catalog destinations with their stored secret (see optionsWithSecret). */
export type DestinationOpener = (
  destination: Pick<DestinationRecord, 'id' | 'name' | 'url' | 'options'>,
) => Promise<StorageBackend>;

export function destinationOpener(
  secrets: SecretStore,
  env: NodeJS.ProcessEnv = process.env,
): DestinationOpener {
  return async (destination) => {
    const stored = storedSecretOf(destination.url);
    const secret = stored ? await secrets.get(entryOf(stored, destination.id)) : undefined;
    return openDestination(destination.url, optionsWithSecret(destination, secret, env));
  };
}
