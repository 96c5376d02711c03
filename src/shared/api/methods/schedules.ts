import { z } from 'zod';
import { ScheduleSchema } from '../../schedules.js';
import { entityId, method } from '../define.js';
import { withOrigin } from './sync.js';

export const scheduleMethods = {
  'schedules.list': method({
    description: 'Every schedule.',
    input: z.object({}).strict(),
    output: z.array(withOrigin(ScheduleSchema)),
    permission: 'schedules:view',
  }),
  'schedules.runNow': method({
    description: 'Run a schedule now, outside its timetable.',
    input: z.object({ schedule: entityId }).strict(),
    output: z.object({ jobId: entityId }),
    permission: 'backups:create',
  }),
};
