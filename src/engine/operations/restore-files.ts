/**
 * The files of `restore --to-dir`: names that are legal on every platform for any legal
 * collection id, owner-only permissions for decrypted data, writes whose every failure
 * surfaces, and the sweep of temporaries that killed runs left behind.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { WriteStream } from 'node:fs';
import { chmod, open, readdir, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { waitForDrain } from '../util/streams.js';
import { makeDirectory } from '../util/make-directory.js';

/** Decrypted data is for its owner only, whatever the umask says. */
export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

const EXTENSION = '.ndjson';
/**
 * 255 bytes is the file-name limit of ext4, APFS, NTFS and most others. Names are ASCII
 * (percent-encoded), so bytes, UTF-16 units and characters agree; 200 leaves room for
 * the extension and a disambiguating suffix.
 */
const MAX_STEM = 200;
const HASH_CHARS = 16;
/** Device names Windows reserves, with any extension (`CON.ndjson` cannot be created). */
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])$/i;

function hashOf(id: string): string {
  return createHash('sha256').update(id).digest('hex').slice(0, HASH_CHARS);
}

/** Cuts an encoded stem to `max` characters without splitting a `%XX` escape. */
function cutEncoded(stem: string, max: number): string {
  const cut = stem.slice(0, max);
  const escape = cut.lastIndexOf('%');
  return escape >= 0 && escape > cut.length - 3 ? cut.slice(0, escape) : cut;
}

/** Percent-encoding, plus what some file systems still refuse (`*`, a leading dot, device names). */
function encodedStem(id: string): string {
  let stem = encodeURIComponent(id).replace(/\*/g, '%2A').replace(/^\./, '%2E');
  if (WINDOWS_RESERVED.test(stem.split('.')[0] ?? '')) {
    stem = `%${stem.charCodeAt(0).toString(16).toUpperCase()}${stem.slice(1)}`;
  }
  return stem;
}

/**
 * Gives every root collection id a file name that is legal on every platform and unique
 * even on case-insensitive file systems (`Users` and `users` are one file on macOS and
 * Windows). A short id's name is its percent-encoding; a long one is cut and ends with a
 * hash of the id; a name already taken (ignoring case) gets the hash too. The names are
 * assigned in archive order, so a backup always restores to the same names. The real id
 * is in every line's path and in backup.json's index, never only in the name.
 */
export class CollectionFileNames {
  private readonly taken = new Set<string>();

  nameFor(id: string): string {
    const stem = encodedStem(id);
    let name =
      stem.length <= MAX_STEM
        ? `${stem}${EXTENSION}`
        : `${cutEncoded(stem, MAX_STEM - HASH_CHARS - 1)}~${hashOf(id)}${EXTENSION}`;
    if (this.taken.has(name.toLowerCase())) {
      name = `${cutEncoded(stem, MAX_STEM - HASH_CHARS - 1)}~${hashOf(id)}${EXTENSION}`;
    }
    // A hash collision (or an id that spells another's hashed name) still gets its own file.
    for (let n = 2; this.taken.has(name.toLowerCase()); n++) {
      name = `${cutEncoded(stem, MAX_STEM - HASH_CHARS - 8)}~${hashOf(id)}~${n}${EXTENSION}`;
    }
    this.taken.add(name.toLowerCase());
    return name;
  }
}

/** A folder only its owner can read, created with its parents (not mkdir -p: see makeDirectory). */
export async function makePrivateDir(dir: string): Promise<void> {
  await makeDirectory(dir, PRIVATE_DIR_MODE);
  await chmod(dir, PRIVATE_DIR_MODE); // the umask may have taken bits away
}

/**
 * A new owner-only file (never an existing one), written through a stream whose every
 * failure surfaces: from `write` or, at the latest, from `close`.
 */
export class PrivateFile {
  private failure: Error | undefined;

  private constructor(private readonly stream: WriteStream) {
    stream.on('error', (error: Error) => {
      this.failure ??= error;
    });
  }

  static async create(file: string): Promise<PrivateFile> {
    const handle = await open(file, 'wx', PRIVATE_FILE_MODE);
    try {
      await handle.chmod(PRIVATE_FILE_MODE);
    } catch (error) {
      await handle.close();
      throw error;
    }
    return new PrivateFile(handle.createWriteStream());
  }

  async write(data: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.stream.write(data)) await waitForDrain(this.stream);
    if (this.failure) throw this.failure;
  }

  /** Ends the file; resolves once every byte reached the file and it is closed. */
  async close(): Promise<void> {
    if (this.failure) throw this.failure;
    this.stream.end();
    await finished(this.stream);
    if (this.failure) throw this.failure;
  }

  destroy(): void {
    this.stream.destroy();
  }
}

/** Writes a whole owner-only file. */
export async function writePrivateFile(file: string, data: string): Promise<void> {
  const out = await PrivateFile.create(file);
  try {
    await out.write(Buffer.from(data));
    await out.close();
  } catch (error) {
    out.destroy();
    throw error;
  }
}

const TEMP_MARK = '.fbtmp-';
/** Names which machine a temporary belongs to: a process id means something only there. */
const HOST_TAG = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
/** Beyond this age a temporary is abandoned whoever made it (see sweepStaleTemporaries). */
export const STALE_TEMPORARY_MS = 24 * 60 * 60 * 1000;

/** The hidden sibling a restore into `target` writes to: `.<name>.fbtmp-<pid>-<host>-<random>`. */
export function temporaryFor(target: string): string {
  return path.join(
    path.dirname(target),
    `.${path.basename(target)}${TEMP_MARK}${process.pid}-${HOST_TAG}-${randomBytes(4).toString('hex')}`,
  );
}

function processIsGone(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // EPERM: it exists but belongs to someone else. Only ESRCH means gone.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** The newest change in a temporary: a live restore keeps touching its files. */
async function lastTouched(dir: string): Promise<number> {
  let newest = (await stat(dir)).mtimeMs;
  for (const entry of await readdir(dir)) {
    const s = await stat(path.join(dir, entry)).catch(() => undefined);
    if (s) newest = Math.max(newest, s.mtimeMs);
  }
  return newest;
}

/**
 * Removes the temporaries of earlier restores into `target` that were killed before
 * they could clean up (they hold decrypted data). A temporary is removed only when it
 * cannot belong to a restore still running: its process id is recorded in its name and
 * that process is gone on this machine, or (for another machine's temporary on a shared
 * folder, or one of an older version without a process id) nothing in it has changed
 * for STALE_TEMPORARY_MS. A reused process id only delays the sweep, never makes it
 * remove a live restore's folder. Returns the folders removed.
 */
export async function sweepStaleTemporaries(target: string, now = Date.now()): Promise<string[]> {
  const parent = path.dirname(target);
  const prefix = `.${path.basename(target)}${TEMP_MARK}`;
  const entries = await readdir(parent).catch(() => [] as string[]);
  const swept: string[] = [];
  for (const entry of entries) {
    if (!entry.startsWith(prefix)) continue;
    const dir = path.join(parent, entry);
    const [pid, host] = entry.slice(prefix.length).split('-');
    const ownerGone = host === HOST_TAG && /^\d+$/.test(pid ?? '') && processIsGone(Number(pid));
    const stale = ownerGone || now - (await lastTouched(dir).catch(() => now)) > STALE_TEMPORARY_MS;
    if (!stale) continue;
    await rm(dir, { recursive: true, force: true });
    swept.push(dir);
  }
  return swept;
}
