import { setFlagsFromString } from 'node:v8';

/**
 * Lets the `backup` command's heap grow to 4× what survives a full collection before the
 * next one (V8's `--heap-growing-percent`; default ~1.1–2× on a small heap).
 *
 * A Storage-only backup keeps a small JavaScript heap (~14 MB: no Firestore client) but
 * streams ~1 MiB buffers through it at hundreds of MB/s; whenever the sealing worker is
 * the slower side, some of them wait across a collection and are promoted. With the
 * default limits each few such megabytes then forced a full collection: 13–53 per
 * 400 MiB instead of 2–4 (bimodal, worse under load), ~0.5–1 s of CPU per 400 MiB
 * (docs/benchmarks.md, Storage). A dedicated CLI process can trade a few tens of MB of
 * heap headroom for that. Set at run time (the only place a `node bin/firebackup.js`
 * can), before the backup allocates: V8 reads the factor at each limit computation.
 * Not for the desktop app or the daemon, whose heaps serve more than one backup.
 */
export function roomForBackupHeap(): void {
  setFlagsFromString('--heap-growing-percent=300');
}
