import { existsSync } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../../shared/errors.js';
import { systemClock, type Clock } from '../clock.js';
import { appDataDir } from '../paths.js';
import { writeJsonDurably, temporaryPrefix } from '../util/durable-write.js';
import { withFileLock } from '../util/file-lock.js';
import { fromFsError } from '../util/fs-errors.js';
import { Keyring } from './keyring.js';
import { MasterKey } from './master-key.js';

/**
 * The key store: one file holding the current master key and every older one, with
 * their creation dates and a log of rotations. It is what makes rotation possible (a
 * new key must be kept somewhere before anything is encrypted with it) and it is the one
 * file to back up. Rules it keeps:
 * - written atomically (temporary + fsync + rename + folder fsync): a crash at any
 *   moment leaves the old file or the new one, never a half-written one;
 * - keys are only ever added: no operation removes an old key;
 * - owner-only (0600), and refused when others can read it, as ssh refuses keys;
 * - a rotation returns only once the new key is on disk, so no backup is ever made
 *   under a key the store does not hold; rotations are serialised across processes by
 *   a lock file, and a scheduled one re-checks under the lock whether it is still due.
 */

const STORE_FORMAT = 'firebackup-keys/1';
const LOCK_STALE_MS = 2 * 60_000;
const LOCK_WAIT_MS = 30_000;

const StoredKeySchema = z
  .object({
    id: z.string(),
    key: z.string().regex(/^[0-9a-f]{64}$/),
    createdAt: z.string().datetime(),
  })
  .strict();

const LogEntrySchema = z
  .object({
    at: z.string().datetime(),
    event: z.enum(['created', 'rotated', 'imported']),
    keyId: z.string(),
    previousKeyId: z.string().optional(),
    by: z.enum(['manual', 'schedule']),
  })
  .strict();
export type KeyStoreLogEntry = z.infer<typeof LogEntrySchema>;

const StoreSchema = z
  .object({
    format: z.literal(STORE_FORMAT),
    current: z.string(),
    keys: z.array(StoredKeySchema).min(1),
    log: z.array(LogEntrySchema),
  })
  .strict();
type StoreData = z.infer<typeof StoreSchema>;

export interface StoredKeyInfo {
  id: string;
  createdAt: string;
  current: boolean;
}

export interface RotationResult {
  /** The key new backups are made with from now on. */
  current: MasterKey;
  /** Undefined when there was no key before (a new store). */
  previousKeyId?: string;
  /** False when a scheduled rotation found it no longer due (another process did it). */
  rotated: boolean;
  createdAt: string;
}

/** Where the key store is: $FIREBACKUP_KEY_STORE, else keys.json in the app data folder. */
export function keyStorePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.FIREBACKUP_KEY_STORE
    ? path.resolve(env.FIREBACKUP_KEY_STORE)
    : path.join(appDataDir(env), 'keys.json');
}

export class KeyStore {
  constructor(
    readonly file: string,
    private readonly clock: Clock = systemClock,
    /** Test hook: runs after the temporary is written, before it replaces the store. */
    private readonly beforeReplace?: () => Promise<void> | void,
  ) {}

  exists(): boolean {
    return existsSync(this.file);
  }

  /** Every key of the store, the current one (for new backups) and the older ones (for reading). */
  async keyring(): Promise<Keyring> {
    const data = await this.read();
    const keys = data.keys.map((k) => MasterKey.fromHex(k.key, `the key store ${this.file}`));
    const current = keys.find((k) => k.id === data.current)!;
    return new Keyring(
      current,
      keys.filter((k) => k !== current),
    );
  }

  async list(): Promise<StoredKeyInfo[]> {
    const data = await this.read();
    return data.keys.map((k) => ({
      id: k.id,
      createdAt: k.createdAt,
      current: k.id === data.current,
    }));
  }

  async log(): Promise<KeyStoreLogEntry[]> {
    return (await this.read()).log;
  }

  /** When the current key was made. */
  async currentSince(): Promise<Date> {
    const data = await this.read();
    return new Date(data.keys.find((k) => k.id === data.current)!.createdAt);
  }

  /**
   * Makes a new key current, keeping every older one. `importing` are keys held
   * elsewhere until now (ENCRYPTION_KEY, a key file, ENCRYPTION_OLD_KEYS) that a new store
   * takes in, so everything readable before stays readable from the store alone.
   */
  async rotate(
    by: 'manual' | 'schedule' = 'manual',
    importing: readonly MasterKey[] = [],
  ): Promise<RotationResult> {
    return this.locked(async () => this.rotateLocked(by, importing));
  }

  /**
   * Rotates when the current key is at least `intervalMs` old, deciding under the lock,
   * so a daemon and a CLI run that both find it due rotate once between them.
   */
  async rotateIfDue(intervalMs: number): Promise<RotationResult> {
    return this.locked(async () => {
      const data = await this.read();
      const current = data.keys.find((k) => k.id === data.current)!;
      const age = this.clock.now().getTime() - Date.parse(current.createdAt);
      if (age < intervalMs) {
        return {
          current: MasterKey.fromHex(current.key, `the key store ${this.file}`),
          rotated: false,
          createdAt: current.createdAt,
        };
      }
      return this.rotateLocked('schedule', []);
    });
  }

  /**
   * Takes in a key held elsewhere until now (a recovery kit, another machine). In a new
   * store it becomes the current key (nothing else exists to make backups with); in an
   * existing one it is kept for reading and the current key stays. Returns whether it
   * became current; a key the store already holds changes nothing.
   */
  async import(
    key: MasterKey,
    by: 'manual' | 'schedule' = 'manual',
  ): Promise<{ current: boolean }> {
    return this.locked(async () => {
      const now = this.clock.now().toISOString();
      const fresh = !this.exists();
      const data: StoreData = fresh
        ? { format: STORE_FORMAT, current: key.id, keys: [], log: [] }
        : await this.read();
      if (data.keys.some((k) => k.id === key.id)) return { current: data.current === key.id };
      data.keys.push({ id: key.id, key: key.revealHex(), createdAt: now });
      data.log.push({ at: now, event: 'imported', keyId: key.id, by });
      await this.write(data);
      return { current: fresh };
    });
  }

  private async rotateLocked(
    by: 'manual' | 'schedule',
    importing: readonly MasterKey[],
  ): Promise<RotationResult> {
    const now = this.clock.now().toISOString();
    const data: StoreData = this.exists()
      ? await this.read()
      : { format: STORE_FORMAT, current: '', keys: [], log: [] };
    for (const key of importing) {
      if (data.keys.some((k) => k.id === key.id)) continue;
      data.keys.push({ id: key.id, key: key.revealHex(), createdAt: now });
      data.log.push({ at: now, event: 'imported', keyId: key.id, by });
    }
    const previousKeyId = data.current || importing[0]?.id;
    const key = MasterKey.generate();
    data.keys.push({ id: key.id, key: key.revealHex(), createdAt: now });
    data.log.push({
      at: now,
      event: previousKeyId ? 'rotated' : 'created',
      keyId: key.id,
      ...(previousKeyId ? { previousKeyId } : {}),
      by,
    });
    data.current = key.id;
    await this.write(data);
    return {
      current: key,
      rotated: true,
      createdAt: now,
      ...(previousKeyId ? { previousKeyId } : {}),
    };
  }

  private async read(): Promise<StoreData> {
    const info = await stat(this.file).catch((error: unknown) => {
      throw fromFsError(error, `Cannot read the key store ${this.file}`);
    });
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
      throw new AppError(
        'KEY_INVALID',
        `The key store ${this.file} can be read by other users (mode ${(info.mode & 0o777).toString(8)}). Make it private with \`chmod 600 ${this.file}\` and consider every key in it exposed.`,
      );
    }
    const text = await readFile(this.file, 'utf8');
    let parsed;
    try {
      parsed = StoreSchema.safeParse(JSON.parse(text));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success || !parsed.data.keys.some((k) => k.id === parsed.data.current)) {
      throw new AppError(
        'KEY_INVALID',
        `The key store ${this.file} is damaged (not a valid ${STORE_FORMAT} file). Restore it from your backup copy; the keys in it cannot be recreated.`,
      );
    }
    for (const k of parsed.data.keys) {
      const key = MasterKey.fromHex(k.key, `the key store ${this.file}`);
      if (key.id !== k.id) {
        throw new AppError(
          'KEY_INVALID',
          `The key store ${this.file} is damaged: key ${k.id} does not match its stored id. Restore it from your backup copy.`,
        );
      }
    }
    return parsed.data;
  }

  /** Temporary beside the store, fsynced, renamed over it, folder fsynced. */
  private async write(data: StoreData): Promise<void> {
    await writeJsonDurably(this.file, data, `the key store ${this.file}`, {
      beforeOpen: () => this.sweepTemporaries(),
      ...(this.beforeReplace ? { beforeReplace: this.beforeReplace } : {}),
    });
  }

  /**
   * Temporaries of writes killed before their rename: they hold a key no backup ever
   * used (a rotation returns only after the rename). Called under the lock, so none of
   * them is being written now.
   */
  private async sweepTemporaries(): Promise<void> {
    const mark = temporaryPrefix(this.file);
    const dir = path.dirname(this.file);
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (name.startsWith(mark)) await rm(path.join(dir, name), { force: true });
    }
  }

  /** One rotation at a time across processes: an O_EXCL lock file holding our pid. */
  private locked<T>(body: () => Promise<T>): Promise<T> {
    return withFileLock(`${this.file}.lock`, `the key store ${this.file}`, body, {
      waitMs: LOCK_WAIT_MS,
      staleMs: LOCK_STALE_MS,
    });
  }
}
