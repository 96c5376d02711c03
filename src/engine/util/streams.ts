import type { Writable } from 'node:stream';

/**
 * Waits until `stream` wants more data. Rejects if it fails or closes first, and removes
 * its listeners either way (a race of bare `events.once` calls leaves them behind, one
 * set per wait, until Node warns of a leak).
 */
export function waitForDrain(stream: Writable): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (error?: Error): void => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = (): void => done();
    const onError = (error: Error): void => done(error);
    const onClose = (): void =>
      done(stream.errored ?? new Error('The stream closed before it drained.'));
    stream.on('drain', onDrain);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}
