import { readFile } from 'node:fs/promises';
import { AppError } from '../../shared/errors.js';
import { fromFsError } from '../util/fs-errors.js';
import { MasterKey } from './master-key.js';

/**
 * The keys a process holds: the current one (for new backups) and older ones kept for
 * reading backups made before a rotation. Archives name their key by id.
 */
export class Keyring {
  readonly #keys = new Map<string, MasterKey>();

  constructor(
    readonly currentKey: MasterKey | undefined,
    oldKeys: readonly MasterKey[] = [],
  ) {
    for (const key of [...oldKeys, ...(currentKey ? [currentKey] : [])])
      this.#keys.set(key.id, key);
  }

  /** The key new backups are written with. */
  current(): MasterKey {
    if (!this.currentKey) {
      throw new AppError(
        'KEY_NOT_FOUND',
        'No encryption key is set. Set ENCRYPTION_KEY to 64 hex characters or pass --key-file <file>; make a key with `firebackup keys generate`.',
      );
    }
    return this.currentKey;
  }

  find(id: string): MasterKey | undefined {
    return this.#keys.get(id);
  }

  /** The key with this id, or an error that names the id the user must supply. */
  require(id: string, what = 'This backup'): MasterKey {
    const key = this.#keys.get(id);
    if (key) return key;
    const held = [...this.#keys.keys()];
    throw new AppError(
      'KEY_NOT_FOUND',
      `${what} was encrypted with key ${id}, which is not among the keys given (${
        held.length ? held.join(', ') : 'none'
      }). Set ENCRYPTION_KEY or add the key to ENCRYPTION_OLD_KEYS (comma-separated), or pass its --key-file.`,
    );
  }

  get ids(): string[] {
    return [...this.#keys.keys()];
  }
}

export interface KeySources {
  env?: NodeJS.ProcessEnv;
  /** A file holding the current key as 64 hex characters (overrides ENCRYPTION_KEY). */
  keyFile?: string;
}

/**
 * A key file that cannot be read is a key problem (exit code 4), whatever the reason;
 * the message says which reason.
 */
function keyFileError(error: unknown, keyFile: string): AppError {
  const code = (error as NodeJS.ErrnoException).code;
  const advice =
    code === 'ENOENT'
      ? 'it does not exist. Check the path; make a key with `firebackup keys generate --out <file>`.'
      : code === 'EISDIR'
        ? 'it is a folder. Give the path of the file holding the key.'
        : fromFsError(error, 'it', 'read').message.replace(/^it: /, '');
  return new AppError('KEY_NOT_FOUND', `Cannot read the key file ${keyFile}: ${advice}`, {
    cause: error,
  });
}

/** Builds the keyring from ENCRYPTION_KEY / --key-file and ENCRYPTION_OLD_KEYS. */
export async function loadKeyring({
  env = process.env,
  keyFile,
}: KeySources = {}): Promise<Keyring> {
  let current: MasterKey | undefined;
  if (keyFile) {
    const text = await readFile(keyFile, 'utf8').catch((error: unknown) => {
      throw keyFileError(error, keyFile);
    });
    current = MasterKey.fromHex(text, `the key file ${keyFile}`);
  } else if (env.ENCRYPTION_KEY) {
    current = MasterKey.fromHex(env.ENCRYPTION_KEY, 'ENCRYPTION_KEY');
  }
  const old = (env.ENCRYPTION_OLD_KEYS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((hex, i) => MasterKey.fromHex(hex, `ENCRYPTION_OLD_KEYS (entry ${i + 1})`));
  return new Keyring(current, old);
}
