import { Redis } from 'ioredis';
import { AppError } from '../shared/errors.js';

/**
 * State that several server instances behind a load balancer must share to behave as one:
 * rate-limit counters and session revocations. In memory when REDIS_URL is unset (then run
 * one instance); in Redis (redis:// or rediss://) otherwise.
 *
 * Revocations matter because each instance keeps a session it has just checked for a few
 * seconds (SESSION_CACHE_MS) instead of asking the database on every call: a revocation on
 * one instance must reach the others at once, so every call asks the revocation list first.
 */

/** A store of request counts per key and fixed window. */
export interface RateLimitStore {
  hit(key: string, windowMs: number, now: number): Promise<{ count: number; resetAt: number }>;
}

/** Sessions ended before their expiry; entries live until the session would have expired. */
export interface RevocationList {
  revoke(sessionIds: readonly string[], ttlMs: number): Promise<void>;
  isRevoked(sessionId: string): Promise<boolean>;
}

export interface SharedState {
  rateLimits: RateLimitStore;
  revocations: RevocationList;
  /** 'memory' or 'redis', for /readyz. */
  readonly kind: 'memory' | 'redis';
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  async hit(key: string, windowMs: number, now: number) {
    let w = this.windows.get(key);
    if (w === undefined || w.resetAt <= now) {
      // Drop stale windows now and then so the map does not grow without end.
      if (this.windows.size > 10_000)
        for (const [k, v] of this.windows) if (v.resetAt <= now) this.windows.delete(k);
      w = { count: 0, resetAt: now + windowMs };
      this.windows.set(key, w);
    }
    w.count++;
    return { ...w };
  }
}

class MemoryRevocations implements RevocationList {
  private readonly until = new Map<string, number>();

  async revoke(sessionIds: readonly string[], ttlMs: number): Promise<void> {
    const now = Date.now();
    if (this.until.size > 10_000)
      for (const [id, t] of this.until) if (t <= now) this.until.delete(id);
    for (const id of sessionIds) this.until.set(id, now + ttlMs);
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    return (this.until.get(sessionId) ?? 0) > Date.now();
  }
}

export function memoryState(): SharedState {
  return {
    kind: 'memory',
    rateLimits: new MemoryRateLimitStore(),
    revocations: new MemoryRevocations(),
    ping: async () => undefined,
    close: async () => undefined,
  };
}

const PREFIX = 'firebackup:';

/**
 * One round trip per hit: INCR, start the window's expiry on the first hit, and answer
 * the count with the time left. Redis's own clock ends the window, the same for every
 * instance.
 */
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}`;

function unreachable(error: unknown): AppError {
  return new AppError(
    'UNAVAILABLE',
    `The server's Redis (REDIS_URL) does not answer: ${(error as Error).message}. Try again shortly.`,
    { cause: error },
  );
}

export function redisState(url: string): SharedState {
  const redis = new Redis(url, {
    // Fail a call quickly rather than queue it while Redis is away: a request should get a
    // clear 503, not hang.
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    lazyConnect: false,
  });
  // Errors reach the calls that fail; without a listener ioredis would print each retry.
  redis.on('error', () => undefined);
  const call = async <T>(body: () => Promise<T>): Promise<T> => {
    try {
      return await body();
    } catch (error) {
      throw unreachable(error);
    }
  };
  return {
    kind: 'redis',
    rateLimits: {
      hit: (key, windowMs, now) =>
        call(async () => {
          const [count, ttl] = (await redis.eval(
            HIT_SCRIPT,
            1,
            `${PREFIX}rl:${key}`,
            windowMs,
          )) as [number, number];
          return { count, resetAt: now + ttl };
        }),
    },
    revocations: {
      revoke: (sessionIds, ttlMs) =>
        call(async () => {
          if (sessionIds.length === 0) return;
          const multi = redis.multi();
          for (const id of sessionIds)
            multi.set(`${PREFIX}revoked:${id}`, '1', 'PX', Math.max(1, Math.ceil(ttlMs)));
          await multi.exec();
        }),
      isRevoked: (sessionId) =>
        call(async () => (await redis.exists(`${PREFIX}revoked:${sessionId}`)) === 1),
    },
    ping: () => call(async () => void (await redis.ping())),
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
