import { z } from 'zod';
import { AppError } from '../../../shared/errors.js';

/**
 * Options of a gs:// destination. What is not given comes from the environment (names in
 * each description), then from Application Default Credentials. Descriptions starting
 * with "Secret." mark values that must never be shown.
 */
export const gcsOptionsSchema = z
  .object({
    projectId: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Google Cloud project id. Env: GOOGLE_CLOUD_PROJECT, GCLOUD_PROJECT. Default: from the credentials.',
      ),
    keyFilename: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Path to a service-account key file. Env: GOOGLE_APPLICATION_CREDENTIALS. Default: Application Default Credentials.',
      ),
    credentialsJson: z
      .string()
      .min(1)
      .optional()
      .describe('Secret. The service-account key itself, as JSON text (instead of keyFilename).'),
    emulatorHost: z
      .string()
      .regex(/^[^/\s:]+:\d+$/, 'expected host:port, e.g. 127.0.0.1:9199')
      .optional()
      .describe(
        'host:port of a Firebase Storage emulator; no credentials are used. Env: FIREBASE_STORAGE_EMULATOR_HOST, STORAGE_EMULATOR_HOST.',
      ),
    resumable: z
      .boolean()
      .optional()
      .describe(
        'Resumable (chunked) uploads. Default: true on Google Cloud, false on the emulator (it stores only the first chunk).',
      ),
    chunkSizeMiB: z
      .number()
      .int()
      .min(1)
      .max(256)
      .optional()
      .describe('Resumable upload chunk size in MiB; memory use is about one chunk. Default: 8.'),
  })
  .strict();

export type GcsOptions = z.infer<typeof gcsOptionsSchema>;

export const GCS_EXAMPLE = 'gs://my-bucket/firebackup';

export interface ResolvedGcsOptions {
  projectId: string | undefined;
  keyFilename: string | undefined;
  credentials: Record<string, unknown> | undefined;
  emulatorHost: string | undefined;
  resumable: boolean;
  chunkSize: number;
}

export function resolveGcsOptions(
  options: GcsOptions,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedGcsOptions {
  const emulatorHost =
    options.emulatorHost ??
    (env.FIREBASE_STORAGE_EMULATOR_HOST || env.STORAGE_EMULATOR_HOST || undefined)?.replace(
      /^https?:\/\//,
      '',
    );
  let credentials: Record<string, unknown> | undefined;
  if (options.credentialsJson) {
    try {
      credentials = JSON.parse(options.credentialsJson) as Record<string, unknown>;
    } catch {
      // Never echo the text: it is a private key.
      throw new AppError(
        'INVALID_ARGUMENT',
        'credentialsJson is not valid JSON (its content is not shown).',
      );
    }
  }
  return {
    projectId: options.projectId ?? (env.GOOGLE_CLOUD_PROJECT || env.GCLOUD_PROJECT || undefined),
    keyFilename: options.keyFilename,
    credentials,
    emulatorHost,
    resumable: options.resumable ?? !emulatorHost,
    chunkSize: (options.chunkSizeMiB ?? 8) * 1024 * 1024,
  };
}
