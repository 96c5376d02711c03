/**
 * A steady, open-loop load for the server bench's audit comparison: one request every
 * 1000 / rate ms, sent on schedule whether or not earlier ones were answered (keep-alive
 * connections, as many as needed), each latency taken from the moment the request was due.
 * autocannon's rate limit instead lets each connection send back to back until it has
 * made its share of the second and then waits for the next tick, so every second starts
 * with a burst (docs/benchmarks.md). The requests alternate between targets, so both
 * sides of a comparison are loaded at once and share every stall of the machine.
 * Requests go through a lean HTTP client (lean-http.ts): node:http's cost as much CPU as
 * the server under test, on the same two cores.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { LeanHttpClient, requestBytes } from './lean-http.js';
import { ascending, quantile } from './paired.js';

export interface Target {
  url: string;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface OpenLoopResult {
  /** Per target: each answered request's latency in ms (from when it was due). */
  latencies: number[][];
  /** Per target: failed or non-2xx requests. */
  bad: number[];
  /**
   * The generator itself: its process's CPU per request (ms) and the p99 of its event
   * loop's delay (ms). The generator shares the machine's cores and reads every answer:
   * a late loop here is latency the server did not cause.
   */
  generator: {
    cpuMsPerRequest: number;
    loopDelayP99Ms: number;
    /**
     * How late requests left against their schedule: p99 and the worst (ms). A stall of
     * the generator delays every request due meanwhile, and each then counts the delay in
     * its latency; this tells such a stall from one of the server.
     */
    sendLagP99Ms: number;
    sendLagMaxMs: number;
  };
}

/**
 * `rate` requests a second in all for `seconds`, request i going to target i mod n
 * (starting at `first`, so a comparison can swap which side goes first).
 */
export async function openLoop(
  targets: readonly Target[],
  rate: number,
  seconds: number,
  first = 0,
): Promise<OpenLoopResult> {
  // One client per origin (a comparison loads two servers); each request's bytes built once.
  const clients = new Map<string, LeanHttpClient>();
  const sides = targets.map((t) => {
    const origin = new URL(t.url).origin;
    if (!clients.has(origin)) clients.set(origin, new LeanHttpClient(origin));
    return {
      client: clients.get(origin)!,
      bytes: requestBytes(t.url, t.method, t.path, t.headers, t.body),
    };
  });
  const latencies: number[][] = targets.map(() => []);
  const bad = targets.map(() => 0);
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const cpuBefore = process.cpuUsage();
  const interval = 1000 / rate;
  const count = Math.floor(rate * seconds);
  const start = performance.now();
  const inFlight: Array<Promise<void>> = [];
  const lags: number[] = [];
  for (let i = 0; i < count; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    // Timers are not finer than a millisecond: requests due meanwhile leave together.
    if (wait >= 1) await sleep(wait);
    const side = (i + first) % targets.length;
    lags.push(performance.now() - due);
    inFlight.push(
      sides[side]!.client.send(sides[side]!.bytes).then((status) => {
        if (status >= 200 && status < 300) latencies[side]!.push(performance.now() - due);
        else bad[side]!++;
      }),
    );
  }
  await Promise.all(inFlight);
  for (const client of clients.values()) client.close();
  loop.disable();
  const cpu = process.cpuUsage(cpuBefore);
  return {
    latencies,
    bad,
    generator: {
      cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / Math.max(1, count),
      loopDelayP99Ms: loop.percentile(99) / 1e6,
      sendLagP99Ms: quantile(ascending(lags), 0.99),
      sendLagMaxMs: lags.reduce((a, b) => Math.max(a, b), 0),
    },
  };
}
