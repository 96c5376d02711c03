import { readFile, stat } from 'node:fs/promises';
import { AppError } from '../../shared/errors.js';
import { fromFsError } from '../util/fs-errors.js';
import { KeyStore, keyStorePath } from './key-store.js';
import { MasterKey } from './master-key.js';

/**
 * The keys a process holds: the current one (for new backups) and older ones kept for
 * reading backups made before a rotation. Archives name their key by id.
 */
export class Keyring {
  readonly #keys = new Map<string, MasterKey>();
  #current: MasterKey | undefined;

  constructor(currentKey: MasterKey | undefined, oldKeys: readonly MasterKey[] = []) {
    this.#current = currentKey;
    for (const key of [...oldKeys, ...(currentKey ? [currentKey] : [])])
      this.#keys.set(key.id, key);
  }

  get currentKey(): MasterKey | undefined {
    return this.#current;
  }

  /** Makes `key` current after a rotation; the previous current key stays for reading. */
  adopt(key: MasterKey): void {
    this.#keys.set(key.id, key);
    this.#current = key;
  }

  /** Holds `key` for reading (an imported old key); the current key stays. */
  hold(key: MasterKey): void {
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
  /** The key store file; default $FIREBACKUP_KEY_STORE or keys.json in the app data folder. */
  keyStore?: string;
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

/**
 * Builds the keyring. When a key store exists (see key-store.ts) its current key makes
 * new backups and all its keys read; ENCRYPTION_KEY or --key-file may still be set, but
 * only to a key the store holds (a stale one after a rotation is fine): a different key
 * would leave it ambiguous which key new backups get, so it is refused. Without a store:
 * ENCRYPTION_KEY / --key-file. ENCRYPTION_OLD_KEYS are added for reading either way.
 */
export async function loadKeyring(sources: KeySources = {}): Promise<Keyring> {
  const given = await loadGivenKeys(sources);
  const store = new KeyStore(sources.keyStore ?? keyStorePath(sources.env ?? process.env));
  if (!store.exists()) return given;
  const stored = await store.keyring();
  const explicit = given.currentKey;
  if (explicit && !stored.find(explicit.id)) {
    throw new AppError(
      'KEY_INVALID',
      `${sources.keyFile ? `The key file ${sources.keyFile}` : 'ENCRYPTION_KEY'} holds key ${explicit.id}, which is not in the key store ${store.file} (current key ${stored.current().id}). Unset it to use the key store, or point FIREBACKUP_KEY_STORE elsewhere; to read backups made with it, put it in ENCRYPTION_OLD_KEYS.`,
    );
  }
  return new Keyring(stored.currentKey, [
    ...given.ids.map((id) => given.find(id)!),
    ...stored.ids.map((id) => stored.find(id)!),
  ]);
}

/** The keys given by ENCRYPTION_KEY / --key-file and ENCRYPTION_OLD_KEYS. */
async function loadGivenKeys({ env = process.env, keyFile }: KeySources): Promise<Keyring> {
  let current: MasterKey | undefined;
  if (keyFile) {
    await assertOwnerOnly(keyFile);
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

/**
 * Refuses a key file its group or others can read or write, as ssh refuses such private
 * keys: whoever can read it can read every backup. No escape hatch: `chmod 600` is the
 * fix and always available to the owner. Windows has no such mode bits; it is skipped.
 */
export async function assertOwnerOnly(file: string, platform = process.platform): Promise<void> {
  if (platform === 'win32') return;
  const info = await stat(file).catch((error: unknown) => {
    throw keyFileError(error, file);
  });
  const mode = info.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new AppError(
      'KEY_INVALID',
      `Permissions 0${mode.toString(8)} for '${file}' are too open: the key file must not be readable by others. Run \`chmod 600 '${file}'\` and try again.`,
    );
  }
}
