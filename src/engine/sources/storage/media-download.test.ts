import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ArrivalQueue, proxyConfigured } from './media-download.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ArrivalQueue', () => {
  it('hands each chunk to accept as it arrives, before the consumer asks', async () => {
    const stream = new PassThrough();
    const seen: string[] = [];
    const queue = new ArrivalQueue(stream, (chunk) => (seen.push(chunk.toString()), []), 2);
    const first = queue.next();
    stream.write('a');
    stream.write('b');
    await tick();
    // Nothing taken by the consumer, yet both chunks were accepted (and are garbage already).
    expect(seen).toEqual(['a', 'b']);
    stream.end();
    expect(await first).toBeUndefined();
  });

  it('reads nothing before its turn: a body opened ahead keeps its chunks from accept', async () => {
    const stream = new PassThrough();
    const seen: string[] = [];
    const queue = new ArrivalQueue(stream, (chunk) => [chunk.toString()], 2);
    stream.write('early');
    await tick();
    expect(seen).toEqual([]);
    expect(stream.readableFlowing).not.toBe(true);
    stream.end();
    expect(await queue.next()).toEqual(['early']);
    expect(await queue.next()).toBeUndefined();
  });

  it('pauses the source while `limit` items wait, and resumes once they are taken', async () => {
    const stream = new PassThrough();
    const queue = new ArrivalQueue(stream, (chunk) => [chunk.toString()], 2);
    const started = queue.whenStarted(); // reading starts, nothing is taken
    stream.write('1');
    stream.write('2');
    await tick();
    expect(stream.isPaused()).toBe(true);
    stream.write('3'); // buffered by the stream, not taken
    await tick();
    await started;
    expect(await queue.next()).toEqual(['1', '2']);
    expect(stream.isPaused()).toBe(false);
    await tick();
    expect(await queue.next()).toEqual(['3']);
    stream.end();
    expect(await queue.next()).toBeUndefined();
  });

  it('delivers what arrived, then the failure; a close before the end is a failure', async () => {
    const failing = new PassThrough();
    const q1 = new ArrivalQueue(failing, (chunk) => [chunk.length], 8);
    const started = q1.whenStarted();
    failing.write('abc');
    await tick();
    await started;
    failing.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    expect(await q1.next()).toEqual([3]);
    await expect(q1.next()).rejects.toMatchObject({ code: 'ECONNRESET' });

    const closed = new PassThrough();
    const q2 = new ArrivalQueue(closed, (chunk) => [chunk.length], 8);
    closed.destroy(); // no error, no end: the object did not arrive whole
    await expect(q2.next()).rejects.toThrow(/closed before the object ended/);
  });

  it('stops the source when accept throws, and reports that', async () => {
    const stream = new PassThrough();
    const queue = new ArrivalQueue(
      stream,
      () => {
        throw new Error('bad chunk');
      },
      2,
    );
    stream.write('x');
    await expect(queue.next()).rejects.toThrow('bad chunk');
    expect(stream.destroyed).toBe(true);
  });
});

describe('proxyConfigured', () => {
  it('sees the variables gaxios honours, in either case', () => {
    expect(proxyConfigured({})).toBe(false);
    expect(proxyConfigured({ HTTPS_PROXY: 'http://p:3128' })).toBe(true);
    expect(proxyConfigured({ http_proxy: 'http://p:3128' })).toBe(true);
    expect(proxyConfigured({ HTTPS_PROXY: '' })).toBe(false);
  });
});
