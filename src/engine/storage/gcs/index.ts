import { registerBackendKind } from '../registry.js';
import { GCS_EXAMPLE, gcsOptionsSchema, type GcsOptions } from './options.js';

export { gcsOptionsSchema, type GcsOptions } from './options.js';

/**
 * Registers gs:// destinations. The SDK loads only when one is opened: the CLI imports
 * every kind, and a backup to one service should not pay the start-up time and memory of
 * the other's SDK.
 */
registerBackendKind<GcsOptions>({
  schemes: ['gs'],
  optionsSchema: gcsOptionsSchema,
  example: GCS_EXAMPLE,
  open: async (url, options) => (await import('./open.js')).openGcs(url, options),
});
