import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * CPU time (user + system, all threads) of a process so far, in ms, from /proc; undefined
 * where /proc is not there or the process is gone.
 */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks of 10 ms
  } catch {
    return undefined;
  }
}

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

/** p50/p99/max of latency samples in ms, printed on one line (the transport benches). */
export function latencySummary(label: string, samples: number[]): { p50: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number): number =>
    sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
  const round = (ms: number): number => Math.round(ms * 100) / 100;
  const p50 = round(at(50));
  const p99 = round(at(99));
  console.log(
    `${label}: ${samples.length} calls   p50 ${p50} ms   p99 ${p99} ms   max ${round(sorted.at(-1) ?? NaN)} ms`,
  );
  return { p50, p99 };
}
