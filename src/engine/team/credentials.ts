import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../../shared/errors.js';
import { FileSecretStore, secretName, type SecretStore } from '../secrets/secret-store.js';
import { withFileLock } from '../util/file-lock.js';

/**
 * The member's sign-in to an organisation server (team sync mode): the server's URL,
 * the token pair it issued and who they are. The refresh token is a credential: never in
 * the catalog, the settings or a log line.
 *
 * One sign-in per machine and user, shared by every front end (ADR 0017): the CLI, the
 * web mode and the desktop app all keep it in `team-session.json` in the app data folder
 * (teamSignInStore), an owner-only file the way the CLI keeps every secret, because the
 * CLI cannot read the desktop's keychain. `firebackup login` or the Team screen replaces
 * it, `logout` or Sign out anywhere removes it for all of them.
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

/** The shared sign-in's file in the app data folder. */
export const TEAM_SIGN_IN_FILE = 'team-session.json';

/** A store whose read-refresh-write of the token pair can be made exclusive across processes. */
export interface ExclusiveStore {
  exclusive<T>(body: () => Promise<T>): Promise<T>;
}

/**
 * The sign-in every front end of this machine reads: an owner-only FileSecretStore of its
 * own (team-session.json, nothing else in it, so a refresh never rewrites other secrets),
 * with a lock file that makes one front end at a time refresh the pair (the server rotates
 * the refresh token on each use and ends the whole session on a second use of the old one).
 *
 * `legacy`: where this front end kept its sign-in before it was shared (the CLI's
 * secrets.json, the desktop's keychain-encrypted secrets.desktop.json). The first front end
 * to run after the upgrade moves its sign-in here (only while the shared file does not
 * exist yet, so a sign-out is never undone by an old copy); each removes its old copy.
 */
export class TeamSignInStore extends FileSecretStore implements ExclusiveStore {
  private adopted: Promise<void> | undefined;

  constructor(
    file: string,
    private readonly legacy?: SecretStore,
  ) {
    super(file);
  }

  override async get(name: string): Promise<string | undefined> {
    await (this.adopted ??= this.adoptLegacy());
    return super.get(name);
  }

  exclusive<T>(body: () => Promise<T>): Promise<T> {
    return withFileLock(`${this.file}.lock`, `the team sign-in ${this.file}`, body, {
      // Held for one refresh at most (one HTTP call, 15 s timeout).
      waitMs: 40_000,
      staleMs: 60_000,
    });
  }

  private async adoptLegacy(): Promise<void> {
    const legacy = this.legacy;
    if (legacy === undefined || (legacy instanceof FileSecretStore && legacy.file === this.file))
      return;
    // An old copy that cannot be read (a keychain that is locked or gone) is left alone.
    const old = await legacy.get(ENTRY).catch(() => undefined);
    if (old === undefined) return;
    await this.exclusive(async () => {
      if (!existsSync(this.file)) await super.set(ENTRY, old);
    });
    await legacy.delete(ENTRY).catch(() => false);
  }
}

/** The machine's shared team sign-in in `dataDir` (moving `legacy`'s over once). */
export function teamSignInStore(dataDir: string, legacy?: SecretStore): TeamSignInStore {
  return new TeamSignInStore(path.join(dataDir, TEAM_SIGN_IN_FILE), legacy);
}
