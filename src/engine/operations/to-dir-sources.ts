/**
 * `restore --to-dir` for Auth and Storage, in open formats:
 *
 *   auth/hash-config.json            the project's password hash configuration
 *   auth/users.ndjson                one user per line, as archived (§3.5)
 *   auth/tenants/<tenant>/…          the same, for each tenant's users
 *   rtdb/<instance>.json             each Realtime Database instance's tree (to-dir-rtdb.ts)
 *   storage/<bucket>/objects/<name>  each object's bytes, as stored
 *   storage/<bucket>/metadata/<name>.json   its metadata (§3.6), the real name inside
 *
 * Object and bucket names are percent-encoded into one file name each (a `/` too), so
 * any legal object name maps to a legal, distinct file ("a" and "a/b" can both exist);
 * long names are cut and end with a hash, and names equal but for case get the hash,
 * so case-insensitive file systems keep them apart. Content is streamed to its file.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import path from 'node:path';
import { AppError } from '../../shared/errors.js';
import { waitForDrain } from '../util/streams.js';
import type { ScannedRecord } from './source-records.js';
import { RtdbJsonWriter, type RtdbDirFile } from './to-dir-rtdb.js';

const PRIVATE_FILE_MODE = 0o600;
const PRIVATE_DIR_MODE = 0o700;
const MAX_STEM = 200;

/** Unique, legal file names for arbitrary names (percent-encoded, cut with a hash). */
export class SafeNames {
  private readonly taken = new Set<string>();

  nameFor(name: string, extension = ''): string {
    const stem = encodeURIComponent(name)
      .replace(/\*/g, '%2A')
      .replace(/^\./, '%2E')
      .replace(
        /^(CON|PRN|AUX|NUL|COM\d|LPT\d)$/i,
        (m) => `%${m.charCodeAt(0).toString(16)}${m.slice(1)}`,
      );
    const hash = createHash('sha256').update(name).digest('hex').slice(0, 16);
    const cut = (): string => `${stem.slice(0, MAX_STEM - 17).replace(/%[0-9A-F]?$/i, '')}~${hash}`;
    let file = (stem.length <= MAX_STEM ? stem : cut()) + extension;
    if (stem === '' || this.taken.has(file.toLowerCase())) file = cut() + extension;
    for (let n = 2; this.taken.has(file.toLowerCase()); n++) file = `${cut()}~${n}${extension}`;
    this.taken.add(file.toLowerCase());
    return file;
  }
}

async function privateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  await chmod(dir, PRIVATE_DIR_MODE);
}

async function openPrivate(file: string): Promise<WriteStream> {
  const stream = createWriteStream(file, { flags: 'wx', mode: PRIVATE_FILE_MODE });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  return stream;
}

async function writeTo(stream: WriteStream, data: Buffer): Promise<void> {
  if (!stream.write(data)) await waitForDrain(stream);
}

async function closeFile(stream: WriteStream): Promise<void> {
  stream.end();
  await finished(stream);
}

export interface OtherSourcesDirSummary {
  auth?: { users: number; files: string[] };
  rtdb?: { instances: RtdbDirFile[] };
  storage?: { objects: number; bytes: number; buckets: Array<{ bucket: string; folder: string }> };
}

/** Writes the Auth and Storage records of a backup under `root`, as they come. */
export class OtherSourcesDirWriter {
  private users: WriteStream | undefined;
  private userCount = 0;
  private object: { stream: WriteStream; left: number } | undefined;
  private readonly bucketFolders = new Map<string, { folder: string; names: SafeNames }>();
  private readonly bucketNames = new SafeNames();
  private objects = 0;
  private bytes = 0;
  private readonly authFiles: string[] = [];
  private readonly tenantNames = new SafeNames();
  private readonly instanceNames = new SafeNames();
  private readonly rtdb = new RtdbJsonWriter({
    open: async (relative) => {
      await privateDir(path.join(this.root, 'rtdb'));
      return openPrivate(path.join(this.root, relative));
    },
    write: (stream, text) => writeTo(stream, Buffer.from(text)),
    close: closeFile,
    writeJson: async (relative, value) => {
      await privateDir(path.join(this.root, 'rtdb'));
      await writeFile(path.join(this.root, relative), `${JSON.stringify(value, null, 2)}\n`, {
        flag: 'wx',
        mode: PRIVATE_FILE_MODE,
      });
    },
    fileName: (instance) => this.instanceNames.nameFor(instance),
  });

  constructor(private readonly root: string) {}

  async write(record: Exclude<ScannedRecord, { kind: 'firestore' }>): Promise<void> {
    switch (record.kind) {
      case 'auth-config': {
        // One folder per scope: the project's users in auth/, a tenant's in auth/tenants/<id>/.
        const tenant = record.record.tenantId;
        const folder = tenant ? `auth/tenants/${this.tenantNames.nameFor(tenant)}` : 'auth';
        if (this.users) await closeFile(this.users);
        this.users = undefined;
        this.authFiles.push(`${folder}/hash-config.json`, `${folder}/users.ndjson`);
        const dir = path.join(this.root, folder);
        await privateDir(dir);
        await writeFile(
          path.join(dir, 'hash-config.json'),
          `${JSON.stringify(record.record, null, 2)}\n`,
          { flag: 'wx', mode: PRIVATE_FILE_MODE },
        );
        this.users = await openPrivate(path.join(dir, 'users.ndjson'));
        return;
      }
      case 'auth-user':
        if (!this.users)
          throw new AppError('ARCHIVE_CORRUPT', 'Auth users without their hash configuration.');
        await writeTo(this.users, Buffer.concat([record.json, NEWLINE]));
        this.userCount++;
        return;
      case 'rtdb':
        await this.rtdb.write(record.record);
        return;
      case 'storage-object':
        await this.startObject(
          record.record.bucket,
          record.record.name,
          record.json,
          Number(record.record.size),
        );
        return;
      case 'storage-content':
        if (!this.object || record.bytes.length > this.object.left) {
          throw new AppError('ARCHIVE_CORRUPT', 'Storage content beyond its object.');
        }
        await writeTo(this.object.stream, record.bytes);
        this.object.left -= record.bytes.length;
        this.bytes += record.bytes.length;
        if (this.object.left === 0) await this.endObject();
        return;
    }
  }

  private async startObject(
    bucket: string,
    name: string,
    json: Buffer,
    size: number,
  ): Promise<void> {
    if (this.object) throw new AppError('ARCHIVE_CORRUPT', 'A Storage object ends early.');
    let folder = this.bucketFolders.get(bucket);
    if (!folder) {
      folder = { folder: this.bucketNames.nameFor(bucket), names: new SafeNames() };
      this.bucketFolders.set(bucket, folder);
      const base = path.join(this.root, 'storage', folder.folder);
      await privateDir(path.join(base, 'objects'));
      await privateDir(path.join(base, 'metadata'));
    }
    const file = folder.names.nameFor(name);
    const base = path.join(this.root, 'storage', folder.folder);
    const meta = JSON.parse(json.toString('utf8')) as Record<string, unknown>;
    await writeFile(
      path.join(base, 'metadata', `${file}.json`),
      `${JSON.stringify({ ...meta, file: `objects/${file}` }, null, 2)}\n`,
      { flag: 'wx', mode: PRIVATE_FILE_MODE },
    );
    this.objects++;
    this.object = { stream: await openPrivate(path.join(base, 'objects', file)), left: size };
    if (size === 0) await this.endObject();
  }

  private async endObject(): Promise<void> {
    const current = this.object!;
    this.object = undefined;
    await closeFile(current.stream);
  }

  /** Closes every file; throws if an object was cut short. */
  async close(): Promise<OtherSourcesDirSummary> {
    if (this.object)
      throw new AppError('ARCHIVE_CORRUPT', 'The archive ends inside a Storage object.');
    if (this.users) await closeFile(this.users);
    this.users = undefined;
    const instances = await this.rtdb.close();
    return {
      ...(this.authFiles.length ? { auth: { users: this.userCount, files: this.authFiles } } : {}),
      ...(instances.length ? { rtdb: { instances } } : {}),
      ...(this.bucketFolders.size
        ? {
            storage: {
              objects: this.objects,
              bytes: this.bytes,
              buckets: [...this.bucketFolders].map(([bucket, f]) => ({
                bucket,
                folder: `storage/${f.folder}`,
              })),
            },
          }
        : {}),
    };
  }

  /** Releases open files after a failure (the caller removes the folder). */
  destroy(): void {
    this.users?.destroy();
    this.object?.stream.destroy();
    this.rtdb.destroy();
  }
}

const NEWLINE = Buffer.from('\n');
