/**
 * A steady, open-loop load for the server bench's audit comparison: one request every
 * 1000 / rate ms, sent on schedule whether or not earlier ones were answered (keep-alive
 * connections, as many as needed), each latency taken from the moment the request was due.
 * autocannon's rate limit instead lets each connection send back to back until it has
 * made its share of the second and then waits for the next tick, so every second starts
 * with a burst (docs/benchmarks.md). The requests alternate between targets, so both
 * sides of a comparison are loaded at once and share every stall of the machine.
 */
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

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
  generator: { cpuMsPerRequest: number; loopDelayP99Ms: number };
}

function send(agent: http.Agent, target: Target): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.request(
      new URL(target.path, target.url),
      { method: target.method, headers: target.headers, agent },
      (response) => {
        response.resume();
        response.once('end', () => {
          const status = response.statusCode ?? 0;
          resolve(status >= 200 && status < 300);
        });
      },
    );
    request.once('error', () => resolve(false));
    request.end(target.body);
  });
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
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const latencies: number[][] = targets.map(() => []);
  const bad = targets.map(() => 0);
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const cpuBefore = process.cpuUsage();
  const interval = 1000 / rate;
  const count = Math.floor(rate * seconds);
  const start = performance.now();
  const inFlight: Array<Promise<void>> = [];
  for (let i = 0; i < count; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    // Timers are not finer than a millisecond: requests due meanwhile leave together.
    if (wait >= 1) await sleep(wait);
    const side = (i + first) % targets.length;
    inFlight.push(
      send(agent, targets[side]!).then((ok) => {
        if (ok) latencies[side]!.push(performance.now() - due);
        else bad[side]!++;
      }),
    );
  }
  await Promise.all(inFlight);
  agent.destroy();
  loop.disable();
  const cpu = process.cpuUsage(cpuBefore);
  return {
    latencies,
    bad,
    generator: {
      cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / Math.max(1, count),
      loopDelayP99Ms: loop.percentile(99) / 1e6,
    },
  };
}
