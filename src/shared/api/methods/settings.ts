import { z } from 'zod';
import { SettingsPatchSchema, SettingsSchema } from '../../settings.js';
import { method } from '../define.js';

export const settingsMethods = {
  'settings.get': method({
    description: 'The app settings (shared by the desktop app, the web mode and the CLI).',
    input: z.object({}).strict(),
    output: SettingsSchema,
    permission: 'backups:view',
  }),
  'settings.update': method({
    description:
      'Change some settings; the others keep their values. Answers with all the settings.',
    input: SettingsPatchSchema,
    output: SettingsSchema,
    permission: 'projects:manage',
  }),
};
