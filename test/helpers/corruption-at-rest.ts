import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { StorageBackend } from '../../src/engine/storage/backend.js';
import { verifyObject } from '../../src/engine/storage/index.js';

/**
 * Writes an object through `wrapped`, damages one bit of it through `bare` (behind the
 * wrappers' back, as bit rot or a bad actor would), and checks that verification fails
 * with INTEGRITY and names the object.
 */
export async function expectCorruptionAtRestNamed(
  wrapped: StorageBackend,
  bare: StorageBackend,
  key = 'backups/b1.fbk',
): Promise<void> {
  const data = randomBytes(50_000);
  const info = await wrapped.put(key, data);
  const flipped = Buffer.from(data);
  flipped[4321] = flipped[4321]! ^ 0x01;
  await bare.put(key, flipped);
  await expect(
    verifyObject(wrapped, key, {
      size: info.size,
      sha256: createHash('sha256').update(data).digest('hex'),
    }),
  ).rejects.toMatchObject({ code: 'INTEGRITY', message: expect.stringContaining(key) });
}

/** Flips one bit of a stored object behind every wrapper's back, as bit rot would. */
export async function flipBitAtRest(
  bare: StorageBackend,
  key: string,
  at: (size: number) => number = (size) => Math.floor(size / 2),
): Promise<void> {
  const parts: Buffer[] = [];
  for await (const chunk of await bare.get(key)) parts.push(Buffer.from(chunk as Uint8Array));
  const bytes = Buffer.concat(parts);
  const offset = at(bytes.length);
  bytes[offset] = bytes[offset]! ^ 0x01;
  await bare.put(key, bytes);
}
