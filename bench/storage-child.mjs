// The storage bench's measured side: our full S3 stack (retry + read-back verification),
// from the compiled engine, so its peak RSS is the product's, not a TS loader's.
// Usage: node bench/storage-child.mjs <endpoint> <bytes> <accessKeyId> <secretAccessKey> <bucket>
import { Readable } from 'node:stream';
import { digestObject, openDestination } from '../dist/engine/storage/index.js';
import { pseudoRandom } from './pseudo-random.mjs';

const [endpoint, bytes, accessKeyId, secretAccessKey, bucket] = process.argv.slice(2);
const backend = await openDestination(`s3://${bucket}/bench`, {
  endpoint,
  accessKeyId,
  secretAccessKey,
});
const timed = async (fn) => {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
};
const uploadSeconds = await timed(() =>
  backend.put('ours.bin', Readable.from(pseudoRandom(Number(bytes)))),
);
const downloadSeconds = await timed(() => digestObject(backend, 'ours.bin'));
console.log(
  JSON.stringify({
    uploadSeconds,
    downloadSeconds,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  }),
);
