/**
 * The trailer's record digest (docs/design.md §3.3): a digest of the record stream, by
 * format version. Versions 1 and 2 use SHA-256; version 3 uses XXH64 (seed 0), because
 * this digest guards against our own pipeline's mistakes (blocks cut or joined wrongly,
 * a compression round trip that changed bytes), never against an attacker: it sits in
 * the authenticated stream, so forging it means forging AES-GCM tags. SHA-256 cost
 * ~0.6 s of CPU per GiB on every backup and every read; XXH64 ~0.1 s (ADR 0028).
 *
 * XXH64 comes from xxhash-wasm (WebAssembly, no native binary), so every platform and
 * Electron that can run FireBackup can verify an archive: a reader must never depend on
 * a module that may fail to load.
 */
import { createHash } from 'node:crypto';
import xxhash from 'xxhash-wasm';

export interface RecordDigest {
  update(bytes: Uint8Array): RecordDigest;
  /** The digest as the trailer holds it: lowercase hex. */
  hex(): string;
}

/** The trailer field that holds the digest in each version. */
export type TrailerDigestField = 'sha256' | 'xxh64';

/** The first format version whose trailer digest is XXH64. */
export const XXH64_TRAILER_VERSION = 3;

export function trailerDigestField(version: number): TrailerDigestField {
  return version >= XXH64_TRAILER_VERSION ? 'xxh64' : 'sha256';
}

/**
 * xxhash-wasm copies each input into its WebAssembly memory, which grows to the largest
 * input and never shrinks: longer inputs go in slices of this size, so a 64 MiB record
 * does not leave 64 MiB resident for the rest of the process.
 */
const WASM_SLICE = 1024 * 1024;

let api: ReturnType<typeof xxhash> | undefined;

/** A fresh record digest for an object of `version`. */
export async function createRecordDigest(version: number): Promise<RecordDigest> {
  if (trailerDigestField(version) === 'sha256') {
    const hash = createHash('sha256');
    const digest: RecordDigest = {
      update(bytes) {
        hash.update(bytes);
        return digest;
      },
      hex: () => hash.digest('hex'),
    };
    return digest;
  }
  api ??= xxhash();
  const hash = (await api).create64(0n);
  const digest: RecordDigest = {
    update(bytes) {
      for (let at = 0; at < bytes.length; at += WASM_SLICE) {
        hash.update(bytes.subarray(at, at + WASM_SLICE));
      }
      return digest;
    },
    hex: () => hash.digest().toString(16).padStart(16, '0'),
  };
  return digest;
}
