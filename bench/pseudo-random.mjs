// Pseudo-random bytes, generated as they are read: one 1 MiB seed block, re-salted per
// chunk so no two chunks (or upload parts) are equal. Shared by the storage bench and its
// child process (plain JS, so the child runs the compiled engine without a TS loader).
import { randomBytes } from 'node:crypto';

const MiB = 1024 * 1024;

export function* pseudoRandom(totalBytes) {
  const seed = randomBytes(MiB);
  for (let offset = 0, n = 0; offset < totalBytes; offset += MiB, n++) {
    const chunk = Buffer.allocUnsafe(Math.min(MiB, totalBytes - offset));
    seed.copy(chunk, 0, 0, chunk.length);
    for (let i = 0; i + 8 <= chunk.length; i += 4096) chunk.writeDoubleLE(n * 1e6 + i, i);
    yield chunk;
  }
}
