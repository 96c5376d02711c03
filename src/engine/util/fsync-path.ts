import { open } from 'node:fs/promises';

/**
 * fsyncs a file or a folder by path: a folder's, after a rename into it, makes the new
 * name itself durable (a crash could otherwise lose it with the file's bytes on disk).
 */
export async function fsyncPath(target: string): Promise<void> {
  const handle = await open(target, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
