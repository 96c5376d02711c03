/**
 * restore --salvage (never the default): one pass over a damaged archive that yields
 * every document whose record lies wholly in segments that authenticate, and an exact
 * account of what was skipped. The archive must still be this backup's (key id from the
 * manifest, the header's backup id when the header survived); its size and digest
 * cannot match the manifest once it is damaged, so that is reported, not refused.
 */
import type { Keyring } from '../keys/keyring.js';
import type { AuthHashConfigRecord } from '../sources/auth/records.js';
import {
  BackupScanner,
  newScannerSalvage,
  type ScannedDocument,
  type ScannerSalvage,
} from './backup-scanner.js';
import type { ScannedRecord } from './source-records.js';
import { bindingFor } from './bind-to-manifest.js';
import type { ResolvedBackup } from './resolve-backup.js';
import type { OperationContext } from './types.js';

/** What a salvaging restore says it skipped. */
export interface SalvageSummary {
  /** False when anything was skipped: the restore is partial. */
  complete: boolean;
  skippedSegments: Array<{ index: number; start: number; end: number; reason: string }>;
  /** Why reading ended before the archive's final segment (e.g. truncation). */
  stoppedEarly?: string;
  /** Records cut by a gap, dropped. */
  droppedRecords: number;
  /** Plaintext bytes skipped while finding the next record after a gap. */
  resyncBytes: number;
  /** The backup header's segment was lost: its backup id could not be checked. */
  headerLost: boolean;
  /** Documents read from the archive (before any --collections/--paths selection). */
  documentsRecovered: number;
  /** Documents the backup held (trailer, else manifest), when known. */
  documentsExpected?: number;
  /** documentsExpected − documentsRecovered: lost or not located. */
  documentsLost?: number;
  /** The trailer's counts and digest, and the manifest's size and SHA-256. */
  trailerCheck: 'verified' | 'not verifiable';
  digestCheck: 'verified' | 'not verifiable' | 'no manifest';
  /** Auth users and Storage objects recovered, when the records of every source were read. */
  sources?: SalvagedSources;
}

/** What salvage recovered of the sources besides Firestore. */
export interface SalvagedSources {
  usersRecovered: number;
  /** Users the backup held (trailer, else manifest), when known. */
  usersExpected?: number;
  /** Users left out because their scope's hash configuration was lost (their passwords could not be restored right). */
  usersWithoutConfig: number;
  objectsRecovered: number;
  objectsExpected?: number;
  /** Objects whose content was cut by the damage: left out whole, never restored in part. */
  objectsCut: string[];
}

const DOCUMENTS = 'firestore.documents';

/** A scanner in salvage mode, and a function that summarises it once it has been read. */
export async function openSalvageScanner(
  backup: ResolvedBackup,
  keyring: Keyring,
  ctx: OperationContext,
): Promise<{
  scanner: BackupScanner;
  documents: () => AsyncGenerator<ScannedDocument>;
  summary: () => SalvageSummary;
  /** Every source's records that survived whole (two passes when the backup holds Storage). */
  records: () => AsyncGenerator<ScannedRecord>;
  /** The backup's project and database from its manifest, for when the header is lost. */
  origin: { project: string; database: string } | undefined;
}> {
  const binding = await bindingFor(backup, keyring);
  if (binding.note) ctx.onNotice?.(binding.note);
  const report = newScannerSalvage();
  const scannerOf = (salvage: ScannerSalvage): BackupScanner =>
    new BackupScanner(backup, keyring, {
      binding,
      salvage,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
  const scanner = scannerOf(report);
  let sources: SalvagedSources | undefined;
  let recovered = 0;
  async function* documents(): AsyncGenerator<ScannedDocument> {
    for await (const item of scanner.documents()) {
      recovered++;
      yield item;
    }
  }
  async function* records(): AsyncGenerator<ScannedRecord> {
    // An object cut by the damage is known only once its content stops short; its
    // content has gone on by then. A first pass finds the cut objects (one per gap at
    // most), the second leaves them out whole. Reading is deterministic: the same bytes
    // give the same records, so the objects are told apart by their order.
    const mayHoldStorage = !binding.manifest || binding.manifest.sources.includes('storage');
    const cut = new Set<number>();
    if (mayHoldStorage) {
      const first = new SourceSalvage(new Set());
      for await (const record of first.filter(scannerOf(newScannerSalvage()).records())) {
        void record; // read only to find the cut objects
      }
      for (const ordinal of first.cutOrdinals) cut.add(ordinal);
    }
    const pass = new SourceSalvage(cut);
    for await (const record of pass.filter(scanner.records())) {
      if (record.kind === 'firestore') recovered++;
      yield record;
    }
    const counts = report.trailer?.counts ?? binding.manifest?.counts ?? {};
    sources = pass.result(counts);
  }
  const summary = (): SalvageSummary => {
    const complete = report.trailerCheck === 'verified' && !report.headerLost;
    const expected = report.trailer?.counts[DOCUMENTS] ?? binding.manifest?.counts[DOCUMENTS];
    return {
      complete,
      skippedSegments: report.skippedSegments,
      ...(report.stoppedEarly ? { stoppedEarly: report.stoppedEarly } : {}),
      droppedRecords: report.droppedRecords,
      resyncBytes: report.resyncBytes,
      headerLost: Boolean(report.headerLost),
      documentsRecovered: recovered,
      ...(expected !== undefined
        ? { documentsExpected: expected, documentsLost: Math.max(0, expected - recovered) }
        : {}),
      trailerCheck: report.trailerCheck,
      digestCheck: !binding.manifest ? 'no manifest' : complete ? 'verified' : 'not verifiable',
      ...(sources ? { sources } : {}),
    };
  };
  const manifest = binding.manifest;
  return {
    scanner,
    documents,
    records,
    summary,
    origin: manifest ? { project: manifest.project, database: manifest.database } : undefined,
  };
}

/**
 * The records of a salvaged read that can be restored as they are. After a gap, reading
 * resumes at the next whole JSON record (never inside Storage content), so:
 * - an object whose content stops short (another record or the end comes first) was cut
 *   by the damage; with its ordinal in `cut`, it is left out whole;
 * - a user whose scope does not match the hash configuration before it (that scope's
 *   configuration was lost) is left out: restored under another scope's configuration,
 *   its password would not work, and in another tenant it would be in the wrong place.
 */
export class SourceSalvage {
  readonly cutOrdinals: number[] = [];
  private readonly cutNames: string[] = [];
  private users = 0;
  private usersWithoutConfig = 0;
  private objects = 0;

  constructor(private readonly cut: ReadonlySet<number>) {}

  async *filter(records: AsyncIterable<ScannedRecord>): AsyncGenerator<ScannedRecord> {
    let config: AuthHashConfigRecord | undefined;
    let ordinal = -1;
    let open: { name: string; remaining: number; dropped: boolean } | undefined;
    const stopShort = (): void => {
      if (open && open.remaining > 0) {
        this.cutOrdinals.push(ordinal);
        this.cutNames.push(open.name);
      }
      open = undefined;
    };
    for await (const record of records) {
      if (record.kind === 'storage-content') {
        // Content only ever follows its object (reading never resumes inside content).
        if (!open) continue;
        open.remaining -= record.bytes.length;
        if (!open.dropped) yield record;
        if (open.remaining <= 0) {
          if (!open.dropped) this.objects++;
          open = undefined;
        }
        continue;
      }
      stopShort();
      if (record.kind === 'auth-config') {
        config = record.record;
      } else if (record.kind === 'auth-user') {
        if (!config || config.tenantId !== record.record.tenantId) {
          this.usersWithoutConfig++;
          continue;
        }
        this.users++;
      } else if (record.kind === 'storage-object') {
        ordinal++;
        const { bucket, name, size } = record.record;
        open = {
          name: `gs://${bucket}/${name}`,
          remaining: Number(size),
          dropped: this.cut.has(ordinal),
        };
        if (open.dropped) continue;
        if (open.remaining === 0) {
          this.objects++;
          open = undefined;
        }
      }
      yield record;
    }
    stopShort();
  }

  result(counts: Record<string, number>): SalvagedSources {
    const users = counts['auth.users'];
    const objects = counts['storage.objects'];
    return {
      usersRecovered: this.users,
      ...(users !== undefined ? { usersExpected: users } : {}),
      usersWithoutConfig: this.usersWithoutConfig,
      objectsRecovered: this.objects,
      ...(objects !== undefined ? { objectsExpected: objects } : {}),
      objectsCut: this.cutNames,
    };
  }
}
