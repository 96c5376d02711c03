import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { zodToJsonSchema } from 'zod-to-json-schema';
import { DestinationInputSchema } from '../engine/catalog/projects.js';
import { backendKinds, schemeOf, type BackendKind } from '../engine/storage/index.js';
import { fieldsFromJsonSchema } from '../shared/destination-forms.js';
import { AppError } from '../shared/errors.js';

/**
 * Destinations in the shared catalog: where the organisation's backups go, named by the
 * same URLs the engine opens (a folder, s3://bucket/prefix, gs://bucket/prefix) with the
 * back end's non-secret options. Secrets never reach the server: each member's app
 * supplies them on its own machine. What counts as a secret comes from the engine itself:
 * the fields its option schemas mark "Secret." (and those that only make sense with one,
 * as destination-forms.ts decides), plus the catalog's own rule on secret-looking names.
 */

export interface DestinationShape {
  kind: string;
  /** s3:// and gs://: the bucket and the prefix inside it ('' for the whole bucket). */
  bucket?: string;
  prefix?: string;
  /** A local (or mounted) folder. */
  folder?: string;
}

interface KindInfo {
  kind: BackendKind<unknown>;
  secrets: ReadonlySet<string>;
}

let kindInfo: Map<string, KindInfo> | undefined;

/** Each remote scheme's kind and the names of its secret options (computed once). */
function kinds(): Map<string, KindInfo> {
  if (kindInfo !== undefined) return kindInfo;
  kindInfo = new Map();
  for (const kind of backendKinds()) {
    const fields = fieldsFromJsonSchema(zodToJsonSchema(kind.optionsSchema));
    const secrets = new Set(fields.filter((f) => f.secret).map((f) => f.name));
    for (const scheme of kind.schemes) kindInfo.set(scheme, { kind, secrets });
  }
  return kindInfo;
}

/** True for a name any back end marks secret, or one the catalog's rule calls secret-looking. */
function isSecretName(name: string, scheme?: string): boolean {
  const marked =
    scheme !== undefined
      ? kinds().get(scheme)?.secrets.has(name) === true
      : [...kinds().values()].some((k) => k.secrets.has(name));
  return marked || !DestinationInputSchema.shape.options.safeParse({ [name]: '' }).success;
}

function secretRefused(what: string): AppError {
  // The value is never repeated: it may be a real key.
  return new AppError(
    'INVALID_ARGUMENT',
    `${what} is a secret, and the server never stores secrets. Leave it out: each member's app supplies it on their own machine (an environment variable, or the app's secret store).`,
  );
}

/**
 * Refuses a destination body (create or update) that carries a secret anywhere: a secret
 * option, a secret-looking field beside the options, or credentials inside the URL.
 */
export function refuseSecrets(body: unknown, url: string | undefined): void {
  if (typeof body !== 'object' || body === null) return;
  const scheme = url !== undefined ? schemeOf(url) : undefined;
  for (const key of Object.keys(body))
    if (key !== 'options' && isSecretName(key)) throw secretRefused(`"${key}"`);
  const options = (body as { options?: unknown }).options;
  if (typeof options === 'object' && options !== null)
    for (const key of Object.keys(options))
      if (isSecretName(key, scheme)) throw secretRefused(`The option "${key}"`);
  if (url !== undefined && scheme !== undefined && scheme !== 'file') {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (parsed !== undefined && (parsed.username !== '' || parsed.password !== ''))
      throw secretRefused('What the URL carries before "@" (credentials in the URL)');
  }
}

function validExamples(): string {
  return ['/path/to/folder', ...backendKinds().map((k) => k.example)].join(', ');
}

/**
 * What a destination URL names: its kind, and its bucket and prefix or its folder. Never
 * throws, so a stored destination always reads back (checkDestination ran when it was
 * written).
 */
export function shapeOf(url: string): DestinationShape {
  const scheme = schemeOf(url);
  if (scheme === undefined || scheme === 'file') {
    try {
      return { kind: 'local', folder: scheme === 'file' ? fileURLToPath(url) : url };
    } catch {
      return { kind: 'local', folder: url };
    }
  }
  try {
    const parsed = new URL(url);
    return {
      kind: scheme,
      bucket: parsed.hostname,
      prefix: decodeURIComponent(parsed.pathname).replace(/^\/+|\/+$/g, ''),
    };
  } catch {
    return { kind: scheme };
  }
}

/**
 * Checks a destination URL and its options the way the engine will open them, and says
 * what it is. Only the check: the server never connects to a member's destination.
 */
export function checkDestination(url: string, options: Record<string, unknown>): DestinationShape {
  const shape = shapeOf(url);
  if (shape.kind === 'local') {
    if (schemeOf(url) === 'file' && shape.folder === url)
      throw new AppError('INVALID_ARGUMENT', `"${url}" is not a valid file:// URL.`);
    const folder = shape.folder ?? url;
    // Members' machines differ: a Windows path is as full as a POSIX one.
    if (!path.posix.isAbsolute(folder) && !path.win32.isAbsolute(folder))
      throw new AppError(
        'INVALID_ARGUMENT',
        `"${url}" is not a full path. Give the folder's full path (e.g. /srv/firebackup or C:\\Backups\\firebackup), as every member's app sees it.`,
      );
    if (Object.keys(options).length > 0)
      throw new AppError(
        'INVALID_ARGUMENT',
        `A folder takes no options (got ${Object.keys(options).join(', ')}); leave options out.`,
      );
    return shape;
  }
  const info = kinds().get(shape.kind);
  if (info === undefined)
    throw new AppError(
      'INVALID_ARGUMENT',
      `Unknown destination scheme "${shape.kind}://". Valid destinations look like: ${validExamples()}.`,
    );
  if (shape.bucket === undefined || shape.bucket === '')
    throw new AppError(
      'INVALID_ARGUMENT',
      `"${url}" names no bucket. It should look like ${info.kind.example}.`,
    );
  const checked = info.kind.optionsSchema.safeParse(options);
  if (!checked.success)
    throw new AppError(
      'INVALID_ARGUMENT',
      `Invalid options for ${shape.kind}:// destination: ${checked.error.issues
        .map((i) => `${i.path.join('.') || 'options'}: ${i.message}`)
        .join('; ')}.`,
    );
  return shape;
}
