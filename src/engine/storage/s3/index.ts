import { registerBackendKind } from '../registry.js';
import { S3_EXAMPLE, s3OptionsSchema, type S3Options } from './options.js';

export { s3OptionsSchema, type S3Options } from './options.js';

/**
 * Registers s3:// destinations. The SDK loads only when one is opened: the CLI imports
 * every kind, and a backup to one service should not pay the start-up time and memory of
 * the other's SDK.
 */
registerBackendKind<S3Options>({
  schemes: ['s3'],
  optionsSchema: s3OptionsSchema,
  example: S3_EXAMPLE,
  open: async (url, options) => (await import('./open.js')).openS3(url, options),
});
