/** Counts of the Auth and Storage records of a backup, for `inspect`. */
import type { ScannedRecord } from './source-records.js';

export interface SourceCounts {
  auth?: { users: number; hashAlgorithm: string };
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

  add(record: Exclude<ScannedRecord, { kind: 'firestore' }>): void {
    switch (record.kind) {
      case 'auth-config':
        this.auth = { users: 0, hashAlgorithm: record.record.hashConfig.algorithm };
        break;
      case 'auth-user':
        if (this.auth) this.auth.users++;
        break;
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
