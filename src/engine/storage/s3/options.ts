import { z } from 'zod';
import { AppError } from '../../../shared/errors.js';
import { envFlag } from '../wrappers/bucket-url.js';

/**
 * Options of an s3:// destination. Every field is optional: what is not given comes from
 * the environment (names in each description), then from the AWS SDK's standard chain.
 * Descriptions starting with "Secret." mark values that must never be shown.
 */
export const s3OptionsSchema = z
  .object({
    region: z
      .string()
      .min(1)
      .optional()
      .describe('AWS region. Env: AWS_REGION, AWS_DEFAULT_REGION. Default: us-east-1.'),
    endpoint: z
      .string()
      .url()
      .optional()
      .describe(
        'Endpoint of an S3-compatible service, e.g. http://127.0.0.1:9000. Env: FIREBACKUP_S3_ENDPOINT. Default: AWS.',
      ),
    forcePathStyle: z
      .boolean()
      .optional()
      .describe(
        'Path-style addressing (endpoint/bucket/key) instead of bucket.endpoint. Env: FIREBACKUP_S3_FORCE_PATH_STYLE=true|false. Default: true when an endpoint is set.',
      ),
    accessKeyId: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Access key id; give it with secretAccessKey. Env: AWS_ACCESS_KEY_ID. Default: the standard AWS credential chain (env, profile, SSO, instance role).',
      ),
    secretAccessKey: z
      .string()
      .min(1)
      .optional()
      .describe('Secret. Secret access key. Env: AWS_SECRET_ACCESS_KEY.'),
    sessionToken: z
      .string()
      .min(1)
      .optional()
      .describe('Secret. Session token for temporary credentials. Env: AWS_SESSION_TOKEN.'),
    profile: z
      .string()
      .min(1)
      .optional()
      .describe('Named profile from ~/.aws/config and ~/.aws/credentials. Env: AWS_PROFILE.'),
    partSizeMiB: z
      .number()
      .int()
      .min(5)
      .max(512)
      .optional()
      .describe(
        'Multipart part size in MiB; memory use is about partSizeMiB × queueSize. Default: 8.',
      ),
    queueSize: z
      .number()
      .int()
      .min(1)
      .max(16)
      .optional()
      .describe('Parts uploaded in parallel. Default: 4.'),
  })
  .strict();

export type S3Options = z.infer<typeof s3OptionsSchema>;

export const S3_EXAMPLE = 's3://my-bucket/firebackup';

export interface ResolvedS3Options {
  region: string;
  endpoint: string | undefined;
  forcePathStyle: boolean;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  profile: string | undefined;
  partSize: number;
  queueSize: number;
}

/** Explicit options win over FIREBACKUP_S3_* variables; the rest is left to the AWS chain. */
export function resolveS3Options(
  options: S3Options,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedS3Options {
  const endpoint = options.endpoint ?? (env.FIREBACKUP_S3_ENDPOINT || undefined);
  if ((options.accessKeyId === undefined) !== (options.secretAccessKey === undefined)) {
    throw new AppError(
      'INVALID_ARGUMENT',
      'Give both accessKeyId and secretAccessKey, or neither (to use the standard AWS credential chain).',
    );
  }
  return {
    region: options.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1'),
    endpoint,
    forcePathStyle:
      options.forcePathStyle ??
      envFlag(env.FIREBACKUP_S3_FORCE_PATH_STYLE) ??
      endpoint !== undefined,
    credentials:
      options.accessKeyId && options.secretAccessKey
        ? {
            accessKeyId: options.accessKeyId,
            secretAccessKey: options.secretAccessKey,
            ...(options.sessionToken ? { sessionToken: options.sessionToken } : {}),
          }
        : undefined,
    profile: options.profile,
    partSize: (options.partSizeMiB ?? 8) * 1024 * 1024,
    queueSize: options.queueSize ?? 4,
  };
}
