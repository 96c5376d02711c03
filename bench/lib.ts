import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface ChildRun {
  code: number;
  ms: number;
  maxRssMb: number;
  /** CPU time of the child, all threads (user + system). */
  cpuMs: number;
  stdout: string;
  stderr: string;
}

/** Runs `node <args>` with the RSS reporter preloaded; returns wall time, peak RSS and CPU time. */
export async function runNodeChild(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ChildRun> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    ['--require', path.join(ROOT, 'bench/report-rss.cjs'), ...args],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20000)));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  const rss = /FB_BENCH_MAXRSS_KB=(\d+)/.exec(stderr);
  const cpu = /FB_BENCH_CPU_MS=(\d+)/.exec(stderr);
  return {
    code,
    ms: performance.now() - started,
    maxRssMb: rss ? Number(rss[1]) / 1024 : NaN,
    cpuMs: cpu ? Number(cpu[1]) : NaN,
    stdout,
    stderr,
  };
}

export function mbps(bytes: number, ms: number): number {
  return bytes / 1e6 / (ms / 1000);
}

export function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

export interface BenchLine {
  name: string;
  value: number;
  unit: string;
  target?: string;
  pass?: boolean;
}

export function printTable(title: string, lines: BenchLine[]): void {
  console.log(`\n## ${title}\n`);
  console.log('| measure | value | target |');
  console.log('| --- | ---: | --- |');
  for (const l of lines) {
    const verdict = l.pass === undefined ? '' : l.pass ? ' ✓' : ' ✗';
    console.log(
      `| ${l.name} | ${fmt(l.value, l.unit === 'x' ? 2 : 1)} ${l.unit} | ${l.target ?? ''}${verdict} |`,
    );
  }
}
