/**
 * The browser's side of bench/web-transport.ts, in its own process as a page would be:
 * times contract calls through the HTTP transport (settings from BENCH_* variables).
 * Messages in: 'busy-start', 'busy-stop'. Messages out: { idle }, { busy } (milliseconds).
 */
import { createClient } from '../src/shared/api/client.js';
import { createHttpTransport } from '../src/shared/api/http-transport.js';

const env = process.env;
const transport = createHttpTransport({ origin: env.BENCH_ORIGIN!, token: env.BENCH_TOKEN! });
const client = createClient(transport);
const idleCalls = Number(env.BENCH_IDLE_CALLS);
const gapMs = Number(env.BENCH_GAP_MS);
const send = (m: unknown): void => void process.send!(m);

async function timeCall(): Promise<number> {
  const start = performance.now();
  const answer = await client.methods['jobs.active']();
  if (!answer.ok) throw new Error(answer.error.message);
  return performance.now() - start;
}

for (let i = 0; i < 50; i++) await timeCall(); // warm up JIT and the connection
const idle: number[] = [];
for (let i = 0; i < idleCalls; i++) idle.push(await timeCall());
send({ idle });

let busy = false;
process.on('message', async (message: string) => {
  if (message === 'busy-stop') {
    busy = false;
    return;
  }
  busy = true;
  const samples: number[] = [];
  while (busy) {
    samples.push(await timeCall());
    await new Promise((r) => setTimeout(r, gapMs));
  }
  send({ busy: samples });
  transport.close();
  process.disconnect();
});
