/** Counts of the Auth, RTDB and Storage records of a backup, for `inspect`. */
import { isInstanceRecord, isPageRecord, type RtdbValue } from '../sources/rtdb/records.js';
import type { ScannedRecord } from './source-records.js';

/** Leaf values of an exported RTDB value (priorities are not nodes). */
function leaves(value: RtdbValue | undefined): number {
  if (value === null || value === undefined) return 0;
  if (typeof value !== 'object' || '.value' in value) return 1;
  let n = 0;
  for (const key of Object.keys(value)) if (key !== '.priority') n += leaves(value[key]);
  return n;
}

export interface RtdbInstanceCounts {
  instance: string;
  /** Leaf values (strings, numbers, booleans) in the tree. */
  nodes: number;
  /** JSON bytes of the tree's records. */
  bytes: number;
  records: number;
}

export interface SourceCounts {
  auth?: { users: number; hashAlgorithm: string };
  rtdb?: { nodes: number; bytes: number; instances: RtdbInstanceCounts[] };
  storage?: {
    objects: number;
    bytes: number;
    buckets: Array<{ bucket: string; objects: number; bytes: number }>;
  };
}

export class SourceTally {
  private auth: SourceCounts['auth'];
  private readonly buckets = new Map<string, { objects: number; bytes: number }>();
  private current: { objects: number; bytes: number } | undefined;
  private readonly instances: RtdbInstanceCounts[] = [];

  add(record: Exclude<ScannedRecord, { kind: 'firestore' }>): void {
    switch (record.kind) {
      case 'auth-config':
        this.auth = { users: 0, hashAlgorithm: record.record.hashConfig.algorithm };
        break;
      case 'auth-user':
        if (this.auth) this.auth.users++;
        break;
      case 'rtdb': {
        const r = record.record;
        if (isInstanceRecord(r)) {
          this.instances.push({ instance: r.instance, nodes: 0, bytes: 0, records: 0 });
          break;
        }
        const counts = this.instances[this.instances.length - 1];
        if (!counts) break;
        counts.records++;
        counts.bytes += record.json.length;
        counts.nodes += isPageRecord(r)
          ? Object.values(r.children).reduce((n: number, v) => n + leaves(v), 0)
          : leaves(r.value);
        break;
      }
      case 'storage-object': {
        const name = record.record.bucket;
        this.current = this.buckets.get(name) ?? { objects: 0, bytes: 0 };
        this.buckets.set(name, this.current);
        this.current.objects++;
        break;
      }
      case 'storage-content':
        if (this.current) this.current.bytes += record.bytes.length;
        break;
    }
  }

  counts(): SourceCounts {
    const buckets = [...this.buckets].map(([bucket, c]) => ({ bucket, ...c }));
    return {
      ...(this.auth ? { auth: this.auth } : {}),
      ...(this.instances.length
        ? {
            rtdb: {
              nodes: this.instances.reduce((n, i) => n + i.nodes, 0),
              bytes: this.instances.reduce((n, i) => n + i.bytes, 0),
              instances: this.instances,
            },
          }
        : {}),
      ...(buckets.length
        ? {
            storage: {
              objects: buckets.reduce((n, b) => n + b.objects, 0),
              bytes: buckets.reduce((n, b) => n + b.bytes, 0),
              buckets,
            },
          }
        : {}),
    };
  }
}
