import { z } from 'zod';
import { CheckReportSchema } from '../../check.js';
import { entityId, method } from '../define.js';

export const destinationMethods = {
  'destinations.check': method({
    description:
      'Check a whole destination (manifests, digests, orphans, leftovers, the catalog; readData = share of archives decrypted in full). Recorded as a check run.',
    input: z
      .object({ destinationId: entityId, readData: z.number().min(0).max(1).default(0) })
      .strict(),
    output: CheckReportSchema,
    permission: 'backups:view',
  }),
  'destinations.repair': method({
    description:
      'The same check, then remove orphans and leftovers older than a day (never an archive that has a manifest).',
    input: z
      .object({ destinationId: entityId, readData: z.number().min(0).max(1).default(0) })
      .strict(),
    output: CheckReportSchema,
    permission: 'backups:delete',
  }),
};
