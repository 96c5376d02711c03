import { z } from 'zod';

/**
 * Push events about the catalog's shared records beside schedules (whose event is in
 * schedule-edit.ts). `destination.changed`: a destination added, edited or removed by any
 * front end of this engine, so screens that depend on which destinations are set up here
 * (the Backups list, another member's backup and its "Read it from …") follow at once.
 */
export const DestinationChangedEventSchema = z.object({
  change: z.enum(['saved', 'removed']),
  destinationId: z.string(),
});
