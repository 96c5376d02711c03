/**
 * `restore --to-dir` for the Realtime Database: one JSON file per instance,
 * `rtdb/<instance>.json`, the tree in the database's export form (priorities as
 * ".priority"), which `firebase database:set` and the console's import accept; beside
 * it `rtdb/<instance>.meta.json` with the instance's URL. The file is streamed record by
 * record: the records come depth-first in key order (docs/design.md §3.7), so keeping
 * the chain of open objects is enough to nest each record where it belongs.
 */
import type { WriteStream } from 'node:fs';
import path from 'node:path';
import { AppError } from '../../shared/errors.js';
import {
  isInstanceRecord,
  isPageRecord,
  pathSegments,
  type RtdbRecord,
} from '../sources/rtdb/records.js';

export interface RtdbDirFile {
  instance: string;
  file: string;
  records: number;
}

export interface RtdbDirIo {
  open(relative: string): Promise<WriteStream>;
  write(stream: WriteStream, text: string): Promise<void>;
  close(stream: WriteStream): Promise<void>;
  writeJson(relative: string, value: unknown): Promise<void>;
  fileName(instance: string): string;
}

export class RtdbJsonWriter {
  private out: WriteStream | undefined;
  /** Keys of the open objects below the root, and whether each has a member yet. */
  private open: string[] = [];
  private members: boolean[] = [];
  /** Whether the root object was opened (or a whole root value written). */
  private started = false;
  private rootValue = false;
  private current: RtdbDirFile | undefined;
  readonly files: RtdbDirFile[] = [];

  constructor(private readonly io: RtdbDirIo) {}

  async write(record: RtdbRecord): Promise<void> {
    if (isInstanceRecord(record)) {
      await this.endInstance();
      const name = this.io.fileName(record.instance);
      this.current = { instance: record.instance, file: `rtdb/${name}.json`, records: 0 };
      this.files.push(this.current);
      await this.io.writeJson(path.posix.join('rtdb', `${name}.meta.json`), record);
      this.out = await this.io.open(this.current.file);
      return;
    }
    if (!this.out || !this.current || this.rootValue) {
      throw new AppError('ARCHIVE_CORRUPT', 'Realtime Database nodes out of place in the archive.');
    }
    this.current.records++;
    const segments = pathSegments(record.path);
    if (!isPageRecord(record) && segments.length === 0) {
      if (this.started) throw new AppError('ARCHIVE_CORRUPT', 'A second root in an RTDB tree.');
      this.started = this.rootValue = true;
      await this.emit(JSON.stringify(record.value));
      return;
    }
    // A page's members go into its node; a value is a member of its parent.
    const holder = isPageRecord(record) ? segments : segments.slice(0, -1);
    await this.moveTo(holder);
    if (isPageRecord(record)) {
      if (record.priority !== undefined) await this.member('.priority', record.priority);
      for (const key of Object.keys(record.children)) {
        await this.member(key, record.children[key]);
      }
    } else {
      await this.member(segments[segments.length - 1]!, record.value);
    }
  }

  /** Closes the objects not on `target`'s chain, opens the ones missing. */
  private async moveTo(target: string[]): Promise<void> {
    if (!this.started) {
      this.started = true;
      this.members = [false];
      await this.emit('{');
    }
    let common = 0;
    while (
      common < this.open.length &&
      common < target.length &&
      this.open[common] === target[common]
    ) {
      common++;
    }
    while (this.open.length > common) {
      this.open.pop();
      this.members.pop();
      await this.emit('}');
    }
    for (const key of target.slice(common)) {
      await this.emit(`${this.comma()}${JSON.stringify(key)}:{`);
      this.open.push(key);
      this.members.push(false);
    }
  }

  private comma(): string {
    const last = this.members.length - 1;
    const sep = this.members[last] ? ',' : '';
    this.members[last] = true;
    return sep;
  }

  private async member(key: string, value: unknown): Promise<void> {
    await this.emit(`${this.comma()}${JSON.stringify(key)}:${JSON.stringify(value)}`);
  }

  private async emit(text: string): Promise<void> {
    await this.io.write(this.out!, text);
  }

  private async endInstance(): Promise<void> {
    if (!this.out) return;
    if (!this.started) await this.emit('null');
    else if (!this.rootValue) await this.emit('}'.repeat(this.open.length + 1));
    await this.emit('\n');
    await this.io.close(this.out);
    this.out = undefined;
    this.open = [];
    this.members = [];
    this.started = this.rootValue = false;
  }

  async close(): Promise<RtdbDirFile[]> {
    await this.endInstance();
    return this.files;
  }

  destroy(): void {
    this.out?.destroy();
  }
}
