import type { BackupManifest } from '../../shared/backups.js';
import { AppError, isAppError, toErrorData, type ErrorData } from '../../shared/errors.js';
import type { Keyring } from '../keys/keyring.js';
import { digestObject } from '../storage/wrappers/verify.js';
import { openBoundScanner, scanToEnd } from './backup-scanner.js';
import { bindingFor, bindingReport } from './bind-to-manifest.js';
import { archiveMatchesManifest } from './manifest.js';
import { ProgressMeter } from './progress-meter.js';
import type { ResolvedBackup } from './resolve-backup.js';
import type { OperationContext } from './types.js';

export interface VerifyReport {
  backup: string;
  id?: string;
  ok: boolean;
  documents: number;
  segments: number;
  archiveBytes: number;
  keyId?: string;
  /** True when the archive's size and SHA-256 were also checked against its manifest. */
  manifestChecked: boolean;
  /** Whether the archive was checked against its manifest, and what was not checked. */
  binding: { manifest: boolean; note?: string };
  depth: 'full' | 'digest';
  error?: ErrorData;
}

export interface VerifyOptions {
  /**
   * full: authenticate every segment, parse every record, check the trailer (and the
   * manifest's digest). digest: only check that the stored archive is byte for byte the
   * one written (size and SHA-256 against its manifest): no key work, for frequent
   * checks of remote copies; needs a manifest.
   */
  depth?: 'full' | 'digest';
}

/**
 * Authenticates every segment, parses every record, checks the trailer, and (when the
 * backup has a manifest) that the stored archive is byte for byte the one written.
 * Failures are reported, not thrown, except for missing keys and cancellation.
 */
export async function verifyBackup(
  backup: ResolvedBackup,
  keyring: Keyring,
  ctx: OperationContext = {},
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const meter = new ProgressMeter(ctx.onProgress, 'verifying');
  if (options.depth === 'digest') {
    const { manifest } = await bindingFor(backup, keyring);
    return verifyDigest(backup, manifest, ctx);
  }
  // The scanner refuses an archive that is not the one its manifest (or name) describes.
  const { scanner, binding } = await openBoundScanner(backup, keyring, ctx, { meter });
  const manifest = binding.manifest;
  if (manifest) meter.setTotal(manifest.counts['firestore.documents']);
  const report: VerifyReport = {
    backup: backup.label,
    ...(backup.id ? { id: backup.id } : {}),
    ok: false,
    documents: 0,
    segments: 0,
    archiveBytes: 0,
    manifestChecked: false,
    binding: bindingReport(binding),
    depth: 'full',
  };
  try {
    report.documents = (await scanToEnd(scanner)).documents;
    const summary = scanner.summary!;
    report.segments = summary.segments;
    report.archiveBytes = summary.archiveBytes;
    report.manifestChecked = manifest !== undefined;
    report.ok = true;
  } catch (error) {
    if (isAppError(error) && (error.code === 'KEY_NOT_FOUND' || error.code === 'CANCELLED'))
      throw error;
    report.error = toErrorData(error);
  } finally {
    if (scanner.keyId) report.keyId = scanner.keyId;
    meter.done();
  }
  return report;
}

function assertMatchesManifest(
  backup: ResolvedBackup,
  manifest: BackupManifest,
  size: number,
  sha256: string,
): void {
  if (!archiveMatchesManifest(manifest, { size, sha256 })) {
    throw new AppError(
      'INTEGRITY',
      `${backup.label}: the stored archive differs from the one the backup wrote (size or SHA-256). It was changed or damaged at rest.`,
    );
  }
}

async function verifyDigest(
  backup: ResolvedBackup,
  manifest: BackupManifest | undefined,
  ctx: OperationContext,
): Promise<VerifyReport> {
  if (!manifest) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `${backup.label} has no manifest to compare with: verify it in full instead.`,
    );
  }
  const report: VerifyReport = {
    backup: backup.label,
    ...(backup.id ? { id: backup.id } : {}),
    ok: false,
    documents: manifest.counts['firestore.documents'] ?? 0,
    segments: 0,
    archiveBytes: 0,
    keyId: manifest.keyId,
    manifestChecked: false,
    binding: { manifest: true },
    depth: 'digest',
  };
  try {
    const stored = await digestObject(backup.destination, backup.archiveKey, ctx.signal);
    report.archiveBytes = stored.size;
    assertMatchesManifest(backup, manifest, stored.size, stored.sha256);
    report.manifestChecked = true;
    report.ok = true;
  } catch (error) {
    if (isAppError(error) && error.code === 'CANCELLED') throw error;
    report.error = toErrorData(error);
  }
  return report;
}
