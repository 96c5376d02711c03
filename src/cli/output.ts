import type { Progress } from '../shared/progress.js';

/** Formats and prints for humans (stderr) and programs (--json on stdout). */
export interface Output {
  json: boolean;
  quiet: boolean;
  /** A line for humans, on stderr (stdout stays clean for --json and pipes). */
  info(line: string): void;
  /** The command's result: JSON on stdout with --json, else the human text on stdout. */
  result(value: unknown, human: string): void;
  progress(p: Progress): void;
  endProgress(): void;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/**
 * 1234567 → "1,234,567". Not toLocaleString: its first call loads ICU's locale data,
 * ~24 ms of every command's start-up (a backup's summary is built even under --json).
 */
export function formatCount(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+$)/g, ',');
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function formatProgress(p: Progress): string {
  const items =
    p.itemsTotal !== undefined
      ? `${formatCount(p.items)}/${formatCount(p.itemsTotal)}`
      : formatCount(p.items);
  const unit = p.unit ?? 'docs';
  const parts = [`${p.phase.padEnd(10)}`, `${items} ${unit}`];
  // Phases that count no bytes (writing to Firestore) would show a misleading "0 B".
  if (p.bytes > 0) parts.push(formatBytes(p.bytes));
  parts.push(`${formatCount(p.itemsPerSecond)} ${unit}/s`);
  if (p.bytesPerSecond > 0) parts.push(`${formatBytes(p.bytesPerSecond)}/s`);
  if (p.etaSeconds !== undefined && p.items > 0) parts.push(`ETA ${formatDuration(p.etaSeconds)}`);
  return parts.join('  ');
}

export function createOutput(options: {
  json?: boolean;
  quiet?: boolean;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
}): Output {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const tty = Boolean(stderr.isTTY);
  const json = Boolean(options.json);
  const quiet = Boolean(options.quiet);
  let lastLine = 0;
  let lastPhase = '';
  let live = false;
  return {
    json,
    quiet,
    info(line) {
      if (quiet) return;
      if (live) this.endProgress();
      stderr.write(`${line}\n`);
    },
    result(value, human) {
      if (live) this.endProgress();
      stdout.write(
        json
          ? `${JSON.stringify(value, null, 2)}\n`
          : human.endsWith('\n') || !human
            ? human
            : `${human}\n`,
      );
    },
    progress(p) {
      if (quiet) return;
      if (tty) {
        stderr.write(`\r\x1b[2K${formatProgress(p)}`);
        live = true;
      } else if (p.phase !== lastPhase || Date.now() - lastLine >= 5000) {
        // Logs and CI: a line per phase and every few seconds, rather than a flood; a
        // phase that has only begun is named, not shown as zeros.
        lastLine = Date.now();
        lastPhase = p.phase;
        stderr.write(p.items > 0 || p.bytes > 0 ? `${formatProgress(p)}\n` : `${p.phase}…\n`);
      }
    },
    endProgress() {
      if (live) stderr.write('\n');
      live = false;
    },
  };
}
