/**
 * Cross-checks between the sources of one backup, reported and never acted on:
 * - Firestore documents keyed by what looks like a Firebase Auth uid (a 28-character
 *   id, or any id in a collection commonly keyed by uid such as `users`) with no such
 *   user among the backup's Auth users (project and tenants alike);
 * - Storage objects named in documents (gs:// URLs, Firebase download URLs, and plain
 *   paths in fields named like *path* or *url*) that the backup's buckets do not hold.
 *
 * The archive holds the documents before the users and objects, so candidates are
 * collected while documents pass and crossed off as users and objects pass. Memory is
 * bounded: at most `maxTracked` candidates per check are kept; the others are counted
 * as not checked, never silently dropped. A reference outside what the backup read
 * (another bucket, outside the prefix) cannot be checked and is counted so too.
 */
import type { FirestoreDocumentRecord, FirestoreValue } from '../../shared/firestore.js';

/** A Firebase Auth uid as the service makes them: 28 letters and digits. */
const UID_SHAPE = /^[A-Za-z0-9]{28}$/;
/** Collections whose documents are usually keyed by the user's uid. */
const UID_KEYED_COLLECTION = /^(users?|user[_-]?profiles?|profiles?|accounts?|members?)$/i;
const GS_URL = /^gs:\/\/([^/]+)\/(.+)$/;
const DOWNLOAD_URL = /^https:\/\/firebasestorage\.googleapis\.com\/v0\/b\/([^/]+)\/o\/([^?#]+)/;
const PUBLIC_URL = /^https:\/\/storage\.googleapis\.com\/([^/]+)\/([^?#]+)/;
/** Fields whose plain (scheme-less) string value is taken for an object name. */
const PATH_FIELD = /path|url/i;
const PLAIN_PATH = /^\/?[^\s:?#]+\/[^\s:?#]*[^\s:?#/]$/;

export interface CrossCheckFinding {
  /** The document's path. */
  document: string;
  /** The field holding the reference (dotted, arrays by index); absent for uid checks. */
  field?: string;
  /** The uid, or the reference as written. */
  value: string;
}

export interface CrossCheck {
  /** Candidates compared with the backup's users or objects. */
  checked: number;
  /** Of them, found missing (documents for uids, references for objects). */
  missing: number;
  /** Candidates not compared: past the memory bound, or outside what the backup read. */
  notChecked: number;
  /** The first missing ones, in archive order. */
  examples: CrossCheckFinding[];
}

export interface CrossCheckReport {
  /** Documents keyed by what looks like a uid, with no such Auth user. */
  uidsWithoutUser?: CrossCheck;
  /** References in documents to Storage objects the backup's buckets do not hold. */
  missingStorageObjects?: CrossCheck;
}

export interface CrossCheckOptions {
  /** Which sources the backup holds: the checks need Firestore and Auth, or Firestore and Storage. */
  sources: readonly string[];
  /** The buckets and prefix the Storage source read. */
  storage?: { buckets: string[]; prefix: string } | undefined;
  /** Candidates kept per check (default 100,000: some 15 MB). */
  maxTracked?: number;
  /** Findings listed per check (default 20). */
  examples?: number;
}

interface Candidate {
  finding: CrossCheckFinding;
  /** Documents (uids) or references (objects) behind this key. */
  count: number;
}

/** A bounded set of candidates, crossed off as what they name is seen. */
class CandidateSet {
  private readonly open = new Map<string, Candidate>();
  checked = 0;
  notChecked = 0;
  constructor(private readonly max: number) {}

  add(key: string, finding: CrossCheckFinding): void {
    const known = this.open.get(key);
    if (known) {
      known.count++;
      this.checked++;
    } else if (this.open.size < this.max) {
      this.open.set(key, { finding, count: 1 });
      this.checked++;
    } else {
      this.notChecked++;
    }
  }

  seen(key: string): void {
    this.open.delete(key);
  }

  result(examples: number): CrossCheck {
    let missing = 0;
    const listed: CrossCheckFinding[] = [];
    for (const c of this.open.values()) {
      missing += c.count;
      if (listed.length < examples) listed.push(c.finding);
    }
    return { checked: this.checked, missing, notChecked: this.notChecked, examples: listed };
  }
}

/** The object a string names, if it names one: its bucket (unknown for a plain path) and name. */
export function storageReference(
  field: string,
  value: string,
): { bucket?: string; name: string } | undefined {
  for (const pattern of [GS_URL, DOWNLOAD_URL, PUBLIC_URL]) {
    const m = pattern.exec(value);
    if (m) {
      try {
        return { bucket: m[1]!, name: decodeURIComponent(m[2]!) };
      } catch {
        return undefined; // not a valid escaped name: not a reference we can check
      }
    }
  }
  if (PATH_FIELD.test(field) && value.length <= 1024 && PLAIN_PATH.test(value)) {
    return { name: value.replace(/^\/+/, '') };
  }
  return undefined;
}

export class CrossChecks {
  private readonly uids: CandidateSet | undefined;
  private readonly refs: CandidateSet | undefined;
  private readonly examples: number;

  constructor(private readonly options: CrossCheckOptions) {
    const max = options.maxTracked ?? 100_000;
    this.examples = options.examples ?? 20;
    const has = (s: string): boolean => options.sources.includes(s);
    if (has('firestore') && has('auth')) this.uids = new CandidateSet(max);
    if (has('firestore') && has('storage') && options.storage) this.refs = new CandidateSet(max);
  }

  /** Whether any check applies to this backup. */
  get active(): boolean {
    return Boolean(this.uids || this.refs);
  }

  noteDocument(doc: FirestoreDocumentRecord): void {
    if (this.uids) {
      const parts = doc.path.split('/');
      const id = parts[parts.length - 1]!;
      const collection = parts[parts.length - 2]!;
      if (UID_SHAPE.test(id) || UID_KEYED_COLLECTION.test(collection)) {
        this.uids.add(id, { document: doc.path, value: id });
      }
    }
    if (this.refs) {
      for (const [field, value] of strings(doc.fields, '')) {
        const ref = storageReference(field.slice(field.lastIndexOf('.') + 1), value);
        if (ref) this.addReference(doc.path, field, value, ref);
      }
    }
  }

  private addReference(
    document: string,
    field: string,
    value: string,
    ref: { bucket?: string; name: string },
  ): void {
    const { buckets, prefix } = this.options.storage!;
    const inScope =
      (ref.bucket === undefined || buckets.includes(ref.bucket)) && ref.name.startsWith(prefix);
    if (!inScope) {
      this.refs!.notChecked++;
      return;
    }
    // A plain path may be in any of the buckets read: it is found when any holds it.
    const key = ref.bucket === undefined ? `\0${ref.name}` : `${ref.bucket}\0${ref.name}`;
    this.refs!.add(key, { document, field, value });
  }

  noteUser(uid: string): void {
    this.uids?.seen(uid);
  }

  noteObject(bucket: string, name: string): void {
    this.refs?.seen(`${bucket}\0${name}`);
    this.refs?.seen(`\0${name}`);
  }

  report(): CrossCheckReport | undefined {
    if (!this.active) return undefined;
    return {
      ...(this.uids ? { uidsWithoutUser: this.uids.result(this.examples) } : {}),
      ...(this.refs ? { missingStorageObjects: this.refs.result(this.examples) } : {}),
    };
  }
}

/** Every string value of a document's fields, with its dotted field path (arrays by index). */
function* strings(
  fields: Record<string, FirestoreValue>,
  at: string,
): Generator<[field: string, value: string]> {
  for (const [key, value] of Object.entries(fields)) {
    yield* stringsOf(value, at ? `${at}.${key}` : key);
  }
}

function* stringsOf(value: FirestoreValue, field: string): Generator<[string, string]> {
  if ('stringValue' in value) yield [field, value.stringValue];
  else if ('mapValue' in value) yield* strings(value.mapValue.fields ?? {}, field);
  else if ('arrayValue' in value) {
    // An array's strings are judged by the array's own field name (photoPaths[2]).
    const values = value.arrayValue.values ?? [];
    for (let i = 0; i < values.length; i++) {
      for (const [, s] of stringsOf(values[i]!, field)) yield [`${field}[${i}]`, s];
    }
  }
}

/** One line per check that found something, for `backup` and `inspect` output. */
export function crossCheckLines(report: CrossCheckReport | undefined): string[] {
  if (!report) return [];
  const lines: string[] = [];
  const describe = (check: CrossCheck | undefined, what: string): void => {
    if (!check || (check.missing === 0 && check.notChecked === 0)) return;
    const unchecked = check.notChecked ? ` (${check.notChecked} not checked)` : '';
    lines.push(`${check.missing} ${what}${unchecked}`);
  };
  describe(report.uidsWithoutUser, 'documents keyed by a uid that no Auth user has');
  describe(report.missingStorageObjects, 'Storage references in documents to objects not found');
  return lines;
}
