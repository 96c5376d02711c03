import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/engine/catalog/db.js';
import { ManualClock } from '../../src/engine/clock.js';
import { LockManager } from '../../src/engine/scheduler/locks.js';

const holderScript = fileURLToPath(new URL('./fixtures/lock-holder.ts', import.meta.url));

let dir: string;
let file: string;
let db: Db;
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'fb-locks-'));
  file = path.join(dir, 'catalog.sqlite');
  db = openDb(file);
});
afterEach(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts a lock holder process; resolves with its first line of output. */
function startHolder(holdMs: number): {
  child: ChildProcess;
  firstLine: Promise<string>;
  exited: Promise<void>;
} {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', holderScript, file, 'project:demo', String(holdMs)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  const firstLine = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.once('exit', () => reject(new Error(`holder exited without output: ${out}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, firstLine, exited };
}

describe('locks', () => {
  it('two processes contending: exactly one gets the lock', async () => {
    const a = startHolder(3000);
    const b = startHolder(3000);
    const lines = await Promise.all([a.firstLine, b.firstLine]);
    expect(lines.filter((l) => l.startsWith('acquired'))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('busy'))).toHaveLength(1);
    // And this process, a third contender, is refused while the winner lives.
    const got = new LockManager(db).tryAcquire('project:demo');
    expect('heldBy' in got).toBe(true);
  });

  it('a holder killed with SIGKILL does not block the next run (dead pid)', async () => {
    const h = startHolder(60_000);
    expect(await h.firstLine).toMatch(/^acquired/);
    const locks = new LockManager(db);
    expect('heldBy' in locks.tryAcquire('project:demo')).toBe(true);
    h.child.kill('SIGKILL');
    await h.exited;
    const got = locks.tryAcquire('project:demo');
    expect('lease' in got).toBe(true);
    if ('lease' in got) got.lease.release();
  });

  it('a lock whose heartbeat stopped is stale after N intervals, and its old holder learns it lost it', async () => {
    const clock = new ManualClock('2024-01-01T00:00:00Z');
    // Two "processes" on the same db; pids are reported alive so only the heartbeat counts.
    const sleeper = new LockManager(db, {
      clock,
      heartbeatMs: 1000,
      staleAfterBeats: 3,
      pid: 111,
      isPidAlive: () => true,
    });
    const other = new LockManager(db, {
      clock,
      heartbeatMs: 1000,
      staleAfterBeats: 3,
      pid: 222,
      isPidAlive: () => true,
    });
    const first = sleeper.tryAcquire('project:demo');
    if (!('lease' in first)) throw new Error('expected the lock');

    // While it beats, nobody else gets it.
    await clock.advance(10_000);
    expect('heldBy' in other.tryAcquire('project:demo')).toBe(true);

    // The holder's machine sleeps: time jumps and no heartbeat happens on the way.
    clock.set(new Date(clock.now().getTime() + 3_500));
    const second = other.tryAcquire('project:demo');
    expect('lease' in second).toBe(true);

    // When the old holder wakes and beats, it finds the lock taken and is told so.
    expect(first.lease.heartbeat()).toBe(false);
    expect(first.lease.lost.aborted).toBe(true);
    // Releasing a lost lease must not free the new holder's lock.
    first.lease.release();
    expect(sleeper.holder('project:demo')?.pid).toBe(222);
    if ('lease' in second) second.lease.release();
    expect(sleeper.holder('project:demo')).toBeUndefined();
  });

  it('acquire explains who holds the lock and that it will be retried', () => {
    const locks = new LockManager(db, { pid: 1, isPidAlive: () => true });
    const lease = locks.acquire('project:demo');
    expect(() =>
      new LockManager(db, { pid: 2, isPidAlive: () => true }).acquire(
        'project:demo',
        'Project demo',
      ),
    ).toThrow(/Project demo is busy: process 1 .* will be retried/);
    lease.release();
  });
});
