import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { AppError } from '../../shared/errors.js';
import type { StorageBackend } from './backend.js';
import { LocalBackend } from './local/local-backend.js';

/**
 * Destinations are named by URL everywhere: a plain path or file:// for a local folder,
 * and one scheme per remote back end. Each back end kind registers here with the zod
 * schema of its options, which drives validation, config and CLI flags.
 */
export interface BackendKind<Options = unknown> {
  /** URL schemes this kind answers to, without ':' ("s3", "gs"). */
  schemes: readonly string[];
  /** Options beyond the URL (credentials, endpoint…); secrets are marked in descriptions. */
  optionsSchema: z.ZodType<Options>;
  /** A valid URL of this kind, for error messages. */
  example: string;
  open(url: URL, options: Options): Promise<StorageBackend> | StorageBackend;
}

const kinds: BackendKind<never>[] = [];

export function registerBackendKind<O>(kind: BackendKind<O>): void {
  kinds.push(kind as unknown as BackendKind<never>);
}

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
/** Looks like a URL with a mistyped separator ("s3:/bucket", "gs:bucket"); one letter is a Windows drive. */
const ALMOST_URL = /^([a-z][a-z0-9+.-]+):(?!\/\/)/i;
/** Or a scheme without its colon ("s3//bucket"). */
const MISSING_COLON = /^([a-z][a-z0-9+.-]*)\/\//i;

/** Every registered remote kind, for building flags and settings forms from their schemas. */
export function backendKinds(): readonly BackendKind<unknown>[] {
  return kinds as unknown as BackendKind<unknown>[];
}

/** The scheme of a location ("s3", "gs", "file"), or undefined for a plain path. */
export function schemeOf(location: string): string | undefined {
  return SCHEME.exec(location)?.[1]?.toLowerCase();
}

function validExamples(): string {
  return ['/path/to/folder', 'file:///path/to/folder', ...kinds.map((k) => k.example)].join(', ');
}

/**
 * Opens the destination named by `location`: a folder path, a file:// URL, or a URL of a
 * registered remote kind. `options` are validated against that kind's schema.
 */
export async function openDestination(
  location: string,
  options: Record<string, unknown> = {},
): Promise<StorageBackend> {
  const match = SCHEME.exec(location);
  if (!match) {
    const typo = ALMOST_URL.exec(location) ?? MISSING_COLON.exec(location);
    if (typo) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `"${location}" looks like a mistyped URL ("${typo[1]}" without "://"). Valid destinations look like: ${validExamples()}.`,
      );
    }
    return new LocalBackend(path.resolve(location));
  }
  const scheme = match[1]!.toLowerCase();
  if (scheme === 'file') {
    try {
      return new LocalBackend(fileURLToPath(location));
    } catch {
      throw new AppError(
        'INVALID_ARGUMENT',
        `"${location}" is not a valid file:// URL. Valid destinations look like: ${validExamples()}.`,
      );
    }
  }
  const kind = kinds.find((k) => k.schemes.includes(scheme));
  if (!kind) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `Unknown destination scheme "${scheme}://" in "${location}". Valid destinations look like: ${validExamples()}.`,
    );
  }
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new AppError(
      'INVALID_ARGUMENT',
      `"${location}" is not a valid URL. It should look like ${kind.example}.`,
    );
  }
  const parsed = kind.optionsSchema.safeParse(options);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((i) => `${i.path.join('.') || 'options'}: ${i.message}`)
      .join('; ');
    throw new AppError(
      'INVALID_ARGUMENT',
      `Invalid options for ${scheme}:// destination: ${issues}.`,
    );
  }
  return kind.open(url, parsed.data as never);
}
