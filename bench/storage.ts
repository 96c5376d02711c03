/**
 * Storage bench: our S3 back end against the bare SDK, on s3rver, same bytes.
 *
 *   upload:   bare lib-storage Upload  vs  openDestination('s3://…').put (retry + verify
 *             stack, read-back included)
 *   download: bare GetObject read      vs  our get + SHA-256 (digestObject)
 *
 * Our side runs in a child process (the compiled engine: `npm run build` first) so its
 * peak RSS (getrusage maxRSS) is its own.
 * Size: BENCH_STORAGE_MB (default 1024). Run alone: `node --import tsx bench/storage.ts`.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pseudoRandom } from './pseudo-random.mjs';
import { S3RVER_CREDENTIALS, TEST_BUCKET, startS3rver } from '../test/setup/storage-servers.js';

const thisFile = fileURLToPath(import.meta.url);
const MiB = 1024 * 1024;

export interface StorageBenchResult {
  sizeMiB: number;
  bareUploadMiBps: number;
  oursUploadMiBps: number;
  uploadRatio: number;
  bareDownloadMiBps: number;
  oursDownloadMiBps: number;
  downloadRatio: number;
  oursPeakRssMiB: number;
  pass: boolean;
}

function bareClient(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

async function bareUpload(endpoint: string, key: string, bytes: number): Promise<number> {
  const client = bareClient(endpoint);
  return timed(() =>
    new Upload({
      client,
      params: { Bucket: TEST_BUCKET, Key: key, Body: Readable.from(pseudoRandom(bytes)) },
      partSize: 8 * MiB,
      queueSize: 4,
    }).done(),
  );
}

async function bareDownload(endpoint: string, key: string): Promise<number> {
  const client = bareClient(endpoint);
  return timed(async () => {
    const res = await client.send(new GetObjectCommand({ Bucket: TEST_BUCKET, Key: key }));
    for await (const _chunk of res.Body as Readable) void _chunk;
  });
}

interface OursResult {
  uploadSeconds: number;
  downloadSeconds: number;
  peakRssMiB: number;
}

/** Our side runs in a child process (compiled engine), so its peak RSS is its own. */
async function oursInChild(endpoint: string, bytes: number): Promise<OursResult> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      path.join(path.dirname(thisFile), 'storage-child.mjs'),
      endpoint,
      String(bytes),
      S3RVER_CREDENTIALS.accessKeyId,
      S3RVER_CREDENTIALS.secretAccessKey,
      TEST_BUCKET,
    ],
    { cwd: path.resolve(path.dirname(thisFile), '..'), maxBuffer: 1 << 20 },
  );
  const line = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as OursResult;
}

export async function benchStorage(): Promise<StorageBenchResult> {
  const sizeMiB = Number(process.env.BENCH_STORAGE_MB ?? 1024);
  const bytes = sizeMiB * MiB;
  const server = await startS3rver();
  try {
    const bareUp = await bareUpload(server.endpoint, 'bench/bare.bin', bytes);
    const mine = await oursInChild(server.endpoint, bytes);
    const bareDown = await bareDownload(server.endpoint, 'bench/bare.bin');
    const rate = (seconds: number): number => Math.round((sizeMiB / seconds) * 10) / 10;
    const result: StorageBenchResult = {
      sizeMiB,
      bareUploadMiBps: rate(bareUp),
      oursUploadMiBps: rate(mine.uploadSeconds),
      uploadRatio: Math.round((bareUp / mine.uploadSeconds) * 100) / 100,
      bareDownloadMiBps: rate(bareDown),
      oursDownloadMiBps: rate(mine.downloadSeconds),
      downloadRatio: Math.round((bareDown / mine.downloadSeconds) * 100) / 100,
      oursPeakRssMiB: Math.round(mine.peakRssMiB),
      pass: false,
    };
    result.pass =
      result.uploadRatio >= 0.8 && result.downloadRatio >= 0.8 && result.oursPeakRssMiB < 250;
    console.log(
      [
        `storage bench (${sizeMiB} MiB on s3rver)`,
        `  upload    bare ${result.bareUploadMiBps} MiB/s   ours ${result.oursUploadMiBps} MiB/s (put + read-back verify)   ratio ${result.uploadRatio} (need ≥ 0.8)`,
        `  download  bare ${result.bareDownloadMiBps} MiB/s   ours ${result.oursDownloadMiBps} MiB/s (get + SHA-256)   ratio ${result.downloadRatio} (need ≥ 0.8)`,
        `  our peak RSS ${result.oursPeakRssMiB} MiB (need < 250)   ${result.pass ? 'PASS' : 'FAIL'}`,
      ].join('\n'),
    );
    return result;
  } finally {
    await server.stop();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === thisFile) {
  benchStorage()
    .then((r) => {
      process.exitCode = r.pass ? 0 : 1;
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
