import { z } from 'zod';
import { method } from '../define.js';

/** The Settings screen's catalog folder: moving the catalog safely (src/engine/catalog/move.ts). */
export const catalogLocationMethods = {
  'settings.moveCatalog': method({
    description:
      'Move the catalog to another folder (null: the app data folder): copied, verified, then used by every front end; the old file is kept, renamed aside. Refused while a job runs, for a folder that cannot be written, and for one holding another catalog unless useExisting (then that catalog is opened as it is).',
    input: z
      .object({
        folder: z.string().trim().min(1).max(4096).nullable(),
        useExisting: z.boolean().default(false),
      })
      .strict(),
    output: z.object({
      /** The catalog file now in use. */
      file: z.string(),
      /** True: this catalog was copied there; false: that folder's own catalog was opened. */
      copied: z.boolean(),
      /** Where the old file was kept (renamed aside), when it was moved. */
      keptAs: z.string().nullable(),
    }),
    permission: 'projects:manage',
  }),
};
