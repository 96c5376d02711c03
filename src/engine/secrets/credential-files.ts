import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../shared/errors.js';
import { fromFsError } from '../util/fs-errors.js';

/**
 * Service-account keys a user hands the app as text (the desktop app's file picker, the
 * web mode's form). The catalog only ever holds a path to a key file (it never stores
 * secrets), so the text is written to an owner-only file in the app data folder's
 * `credentials/` and the project points at it, as if the user had given that path to the
 * CLI's --credentials. The Electron app may keep these in the OS keychain instead.
 *
 * Nothing here puts the key's content in an error message.
 */
export const CREDENTIALS_FOLDER = 'credentials';

export interface ServiceAccount {
  clientEmail: string;
  privateKey: string;
  projectId: string | undefined;
}

/**
 * Checks the text is a service-account key. `what` names it in messages ("The credentials
 * file /x/key.json"); the content never appears in them (it holds a private key).
 */
export function parseServiceAccount(
  text: string,
  what = 'The service-account key',
): ServiceAccount {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AppError(
      'INVALID_ARGUMENT',
      `${what} is not valid JSON (its content is not shown). Use the service-account key file exactly as downloaded from the Google Cloud console.`,
    );
  }
  const a = parsed as Record<string, unknown> | null;
  if (
    typeof a !== 'object' ||
    a === null ||
    a.type !== 'service_account' ||
    typeof a.client_email !== 'string' ||
    typeof a.private_key !== 'string'
  ) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `${what} is not a service-account key (it needs "type": "service_account", "client_email" and "private_key"). Create a key under IAM → Service accounts → Keys in the Google Cloud console.`,
    );
  }
  return {
    clientEmail: a.client_email,
    privateKey: a.private_key,
    projectId: typeof a.project_id === 'string' ? a.project_id : undefined,
  };
}

/** Writes the key to a new owner-only file (atomically) and returns its path. */
export async function storeServiceAccount(
  dataDir: string,
  label: string,
  text: string,
): Promise<string> {
  parseServiceAccount(text);
  const dir = path.join(dataDir, CREDENTIALS_FOLDER);
  const safe = label.replace(/[^a-z0-9-]/gi, '-').slice(0, 60) || 'project';
  const file = path.join(dir, `${safe}-${randomBytes(6).toString('hex')}.json`);
  const temp = `${file}.tmp`;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw fromFsError(error, `Cannot keep the service-account key in ${dir}`);
  }
  return file;
}

/** The client e-mail of a key file, or null when it cannot be read (shown, never secret). */
export async function serviceAccountEmail(file: string): Promise<string | null> {
  try {
    return parseServiceAccount(await readFile(file, 'utf8')).clientEmail;
  } catch {
    return null;
  }
}

/** Removes a key file this module wrote; files the user pointed at elsewhere are theirs. */
export async function forgetServiceAccount(dataDir: string, file: string): Promise<void> {
  const dir = path.resolve(dataDir, CREDENTIALS_FOLDER);
  if (path.dirname(path.resolve(file)) !== dir) return;
  await rm(file, { force: true });
}
