/**
 * restore --salvage (never the default): one pass over a damaged archive that yields
 * every document whose record lies wholly in segments that authenticate, and an exact
 * account of what was skipped. The archive must still be this backup's (key id from the
 * manifest, the header's backup id when the header survived); its size and digest
 * cannot match the manifest once it is damaged, so that is reported, not refused.
 */
import type { Keyring } from '../keys/keyring.js';
import { BackupScanner, newScannerSalvage, type ScannedDocument } from './backup-scanner.js';
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
  /** The backup's project and database from its manifest, for when the header is lost. */
  origin: { project: string; database: string } | undefined;
}> {
  const binding = await bindingFor(backup, keyring);
  if (binding.note) ctx.onNotice?.(binding.note);
  const report = newScannerSalvage();
  const scanner = new BackupScanner(backup, keyring, {
    binding,
    salvage: report,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  let recovered = 0;
  async function* documents(): AsyncGenerator<ScannedDocument> {
    for await (const item of scanner.documents()) {
      recovered++;
      yield item;
    }
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
    };
  };
  const manifest = binding.manifest;
  return {
    scanner,
    documents,
    summary,
    origin: manifest ? { project: manifest.project, database: manifest.database } : undefined,
  };
}
