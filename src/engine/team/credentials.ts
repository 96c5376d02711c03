import { z } from 'zod';
import { AppError } from '../../shared/errors.js';
import { secretName, type SecretStore } from '../secrets/secret-store.js';

/**
 * The member's sign-in to an organisation server (team sync mode): the server's URL,
 * the token pair it issued and who they are. Kept in the SecretStore (an owner-only
 * file for the CLI, the OS keychain in the desktop app) because the refresh token is a
 * credential; never in the catalog, the settings or a log line.
 *
 * One sign-in per secret store: `firebackup login` replaces it, `logout` removes it. The
 * CLI and the web mode (`firebackup ui`) share the owner-only secrets file, so one sign-in
 * serves both; the desktop app keeps its own in the OS keychain (secrets.desktop.json) and
 * signs in from its Team screen.
 */
export const TeamCredentialsSchema = z.object({
  serverUrl: z.string().url(),
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1),
  /** When the access token stops working (ms since epoch); refresh a little before. */
  accessExpiresAt: z.number().int(),
  sessionId: z.string().min(1),
  user: z.object({ id: z.string().min(1), email: z.string() }),
  /** The organisation the member picked (`login --org`, the org picker); null: none yet. */
  organizationId: z.string().min(1).nullable(),
});
export type TeamCredentials = z.infer<typeof TeamCredentialsSchema>;

const ENTRY = secretName('team-session', 'default');

export async function loadTeamCredentials(
  secrets: SecretStore,
): Promise<TeamCredentials | undefined> {
  const stored = await secrets.get(ENTRY);
  if (stored === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored);
  } catch {
    parsed = undefined;
  }
  const result = TeamCredentialsSchema.safeParse(parsed);
  if (!result.success)
    // Never echo the stored value: it holds tokens.
    throw new AppError(
      'INVALID_ARGUMENT',
      'The saved team sign-in is unreadable (its content is not shown). Run `firebackup logout`, then `firebackup login --server <url>` again.',
    );
  return result.data;
}

export async function saveTeamCredentials(
  secrets: SecretStore,
  credentials: TeamCredentials,
): Promise<void> {
  await secrets.set(ENTRY, JSON.stringify(TeamCredentialsSchema.parse(credentials)));
}

/** Forgets the sign-in; true when there was one. */
export async function clearTeamCredentials(secrets: SecretStore): Promise<boolean> {
  return secrets.delete(ENTRY);
}
