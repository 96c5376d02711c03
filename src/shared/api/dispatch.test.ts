import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { METHOD_NAMES } from './contract.js';
import { createDispatcher, type Handlers } from './dispatch.js';

function handlers(calls: string[]): Handlers {
  const reject = async (): Promise<never> => {
    throw new Error('not under test');
  };
  return {
    // Every method answers 'not under test' unless listed below, so a new method needs no edit here.
    ...(Object.fromEntries(METHOD_NAMES.map((m) => [m, reject])) as unknown as Handlers),
    'jobs.startBackup': async (input) => {
      calls.push(`start ${input.projectId} ${input.destinationId}`);
      return { jobId: 'job_1' };
    },
    'jobs.cancel': async () => {
      throw new AppError('NOT_FOUND', 'No such job.');
    },
    'jobs.active': async () => [],
    'runs.history': async (input) => {
      calls.push(`history ${input.limit}`);
      return [];
    },
    'schedules.runNow': async () => {
      throw new TypeError('secret detail at /home/me/key.hex');
    },
  };
}

describe('the contract dispatcher', () => {
  it('validates input and applies schema defaults before calling the handler', async () => {
    const calls: string[] = [];
    const dispatch = createDispatcher(handlers(calls));
    expect(
      await dispatch('jobs.startBackup', { projectId: 'p', destinationId: 'd' }, { kind: 'local' }),
    ).toEqual({
      ok: true,
      value: { jobId: 'job_1' },
    });
    await dispatch('runs.history', {}, { kind: 'local' });
    expect(calls).toEqual(['start p d', 'history 50']);
  });

  it('refuses bad input, unknown fields and unknown methods without calling anything', async () => {
    const calls: string[] = [];
    const dispatch = createDispatcher(handlers(calls));
    const bad = await dispatch('jobs.startBackup', { projectId: 42 }, { kind: 'local' });
    expect(bad).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('projectId') },
    });
    const extra = await dispatch('jobs.active', { evil: true }, { kind: 'local' });
    expect(extra).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    const unknown = await dispatch('__proto__', {}, { kind: 'local' });
    expect(unknown).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('Unknown method') },
    });
    expect(calls).toEqual([]);
  });

  it('enforces the permission of each method by role and by API key scope', async () => {
    const calls: string[] = [];
    const dispatch = createDispatcher(handlers(calls));
    const input = { projectId: 'p', destinationId: 'd' };
    expect(
      await dispatch('jobs.startBackup', input, { kind: 'member', role: 'viewer' }),
    ).toMatchObject({
      ok: false,
      error: { code: 'PERMISSION_DENIED' },
    });
    expect(
      await dispatch('jobs.startBackup', input, { kind: 'apiKey', scopes: ['backups:read'] }),
    ).toMatchObject({
      ok: false,
      error: { code: 'PERMISSION_DENIED' },
    });
    expect(
      await dispatch('jobs.startBackup', input, { kind: 'apiKey', scopes: ['backups:write'] }),
    ).toMatchObject({ ok: true });
    expect(await dispatch('runs.history', {}, { kind: 'member', role: 'viewer' })).toMatchObject({
      ok: true,
    });
    expect(calls).toEqual(['start p d', 'history 50']);
  });

  it('returns errors as data, with their code and no stack or internal detail', async () => {
    const dispatch = createDispatcher(handlers([]));
    const known = await dispatch('jobs.cancel', { jobId: 'x' }, { kind: 'local' });
    expect(known).toEqual({
      ok: false,
      error: { code: 'NOT_FOUND', message: 'No such job.', fault: 'user', retryable: false },
    });
    const unexpected = await dispatch('schedules.runNow', { schedule: 's' }, { kind: 'local' });
    expect(unexpected).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    expect(JSON.stringify(unexpected)).not.toMatch(/at .*\.ts:\d+|key\.hex|secret/);
  });
});
