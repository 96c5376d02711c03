import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLoop, type Target } from '../../bench/open-loop.js';

// A local server that answers after `delay` ms (the path says how long) and records when
// each request arrived and to which path.
let server: Server;
let url = '';
const arrivals: Array<{ at: number; path: string }> = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    arrivals.push({ at: performance.now(), path: request.url ?? '' });
    const delay = Number(/delay=(\d+)/.exec(request.url ?? '')?.[1] ?? 0);
    setTimeout(() => {
      response.statusCode = request.url?.startsWith('/fail') === true ? 500 : 200;
      response.end('{}');
    }, delay);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const target = (path: string): Target => ({ url, method: 'GET', path, headers: {} });

describe('the open-loop load generator', () => {
  it('sends on schedule, alternating targets, even while earlier requests are unanswered', async () => {
    arrivals.length = 0;
    // Answers take 150 ms: a closed loop of a few connections could not keep 200 req/s.
    const result = await openLoop([target('/a?delay=150'), target('/b?delay=150')], 200, 1);
    expect(result.latencies[0]).toHaveLength(100);
    expect(result.latencies[1]).toHaveLength(100);
    expect(result.bad).toEqual([0, 0]);
    // Its own cost is reported: some CPU per request, and a loop delay of a sane size.
    expect(result.generator.cpuMsPerRequest).toBeGreaterThan(0);
    expect(result.generator.loopDelayP99Ms).toBeGreaterThan(0);
    expect(result.generator.loopDelayP99Ms).toBeLessThan(1000);
    // Alternating: every stretch of the schedule has both (arrival order within one
    // timer tick may differ from sending order, so count rather than compare in order).
    const firstTen = arrivals.slice(0, 10).map((a) => a.path.slice(0, 2));
    expect(firstTen.filter((p) => p === '/a')).toHaveLength(5);
    // Steady: no 100 ms window holds much more than its share (20) of the 200 requests.
    const times = arrivals.map((a) => a.at).sort((x, y) => x - y);
    let most = 0;
    for (let i = 0; i < times.length; i++) {
      let j = i;
      while (j < times.length && times[j]! - times[i]! < 100) j++;
      most = Math.max(most, j - i);
    }
    expect(most).toBeLessThan(35);
    // Every latency counts the full answer time.
    expect(Math.min(...result.latencies[0]!)).toBeGreaterThanOrEqual(140);
  });

  it('counts failed answers per target and starts with the target asked for', async () => {
    arrivals.length = 0;
    const result = await openLoop([target('/ok'), target('/fail')], 100, 0.2, 1);
    // Request 0 goes to target 1; both are sent in order, 10 ms apart.
    expect(arrivals[0]!.path).toBe('/fail');
    expect(result.bad).toEqual([0, 10]);
    expect(result.latencies[0]).toHaveLength(10);
    expect(result.latencies[1]).toHaveLength(0);
  });
});
