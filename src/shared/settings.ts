import { z } from 'zod';
import { AppError } from './errors.js';

/**
 * The app's settings, shared by every front end: the Electron app opens the file with
 * electron-store, the CLI and the web mode with its base `conf` (src/engine/settings/),
 * over this one schema, so all of them read and write the same values.
 *
 * `version` is the schema's version: when a field changes meaning, bump SETTINGS_VERSION
 * and add a step to migrateSettings, so a file written by an older app is upgraded
 * rather than reset (a reset would silently drop the user's choices).
 */
export const SETTINGS_VERSION = 1;

export const ThemeSchema = z.enum(['system', 'light', 'dark']);
export type Theme = z.infer<typeof ThemeSchema>;

export const NotificationSettingsSchema = z.object({
  failedRuns: z.boolean().default(true).describe('A backup, verify or restore failed'),
  missedRuns: z.boolean().default(true).describe('A scheduled run was missed'),
  keyProblems: z.boolean().default(true).describe("A key cannot read a destination's backups"),
});

export const SettingsSchema = z.object({
  version: z.number().int().min(1).default(SETTINGS_VERSION),
  startAtLogin: z.boolean().default(false).describe('Start FireBackup when you log in'),
  notifications: NotificationSettingsSchema.default({}),
  /** null: the default location (FIREBACKUP_HOME's catalog). */
  catalogPath: z
    .string()
    .trim()
    .min(1)
    .max(4096)
    .nullable()
    .default(null)
    .describe('Folder of the catalog (empty: the default)'),
  theme: ThemeSchema.default('system').describe('Light, dark, or follow the system'),
});
export type Settings = z.infer<typeof SettingsSchema>;

/** What `settings.update` accepts: any subset of the fields, never the version. */
export const SettingsPatchSchema = z
  .object({
    startAtLogin: z.boolean(),
    notifications: NotificationSettingsSchema.partial().strict(),
    catalogPath: z.string().trim().min(1).max(4096).nullable(),
    theme: ThemeSchema,
  })
  .partial()
  .strict();
export type SettingsPatch = z.infer<typeof SettingsPatchSchema>;

export const DEFAULT_SETTINGS: Settings = SettingsSchema.parse({});

/** Applies a patch (nested notification flags merged, not replaced). */
export function applySettingsPatch(current: Settings, patch: SettingsPatch): Settings {
  return SettingsSchema.parse({
    ...current,
    ...patch,
    notifications: { ...current.notifications, ...patch.notifications },
    version: SETTINGS_VERSION,
  });
}

/**
 * Settings as stored (any version, possibly hand-edited) upgraded to this version. Unknown
 * fields are dropped, a bad field falls back to its default alone (one typo must not
 * reset every other choice), and a file from a newer app is refused rather than
 * overwritten with fewer fields.
 */
export function migrateSettings(stored: unknown): Settings {
  const raw: Record<string, unknown> =
    typeof stored === 'object' && stored !== null ? { ...(stored as Record<string, unknown>) } : {};
  const version = typeof raw.version === 'number' ? raw.version : SETTINGS_VERSION;
  if (version > SETTINGS_VERSION) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `The settings were written by a newer FireBackup (settings version ${version}; this one knows ${SETTINGS_VERSION}). Update FireBackup.`,
    );
  }
  // Version steps go here: `if (version < 2) { …rename or convert fields… }`.
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(SettingsSchema.shape)) {
    const parsed = (field as z.ZodTypeAny).safeParse(raw[key]);
    out[key] = parsed.success ? parsed.data : (field as z.ZodTypeAny).parse(undefined);
  }
  out.version = SETTINGS_VERSION;
  return SettingsSchema.parse(out);
}
