import { describe, expect, it } from 'vitest';
import type { JobEvent } from '../../shared/jobs.js';
import { isRunning, reduceJobEvent } from './jobs.js';

const progress = (items: number): JobEvent => ({
  type: 'progress',
  jobId: 'j1',
  progress: { phase: 'reading', items, bytes: items * 10, itemsPerSecond: 5, bytesPerSecond: 50 },
});
const state = (status: 'running' | 'succeeded' | 'failed', error?: JobEvent): JobEvent =>
  ({
    type: 'state',
    jobId: 'j1',
    kind: 'backup',
    status,
    attempt: 1,
    ...(error ? { error } : {}),
  }) as JobEvent;

describe('the jobs slice reducer', () => {
  it('follows a job from its first tick to the end', () => {
    let byId = reduceJobEvent({}, progress(1)); // a tick can arrive before the state event
    expect(byId.j1).toMatchObject({ kind: null, status: 'queued', progress: { items: 1 } });
    byId = reduceJobEvent(byId, state('running'));
    byId = reduceJobEvent(byId, progress(7));
    expect(byId.j1).toMatchObject({ kind: 'backup', status: 'running', progress: { items: 7 } });
    expect(isRunning(byId.j1)).toBe(true);
    byId = reduceJobEvent(byId, state('succeeded'));
    expect(isRunning(byId.j1)).toBe(false);
  });

  it('ignores a late progress tick after the job ended', () => {
    let byId = reduceJobEvent({}, state('running'));
    byId = reduceJobEvent(byId, progress(3));
    byId = reduceJobEvent(byId, state('succeeded'));
    const after = reduceJobEvent(byId, progress(4));
    expect(after).toBe(byId);
    expect(after.j1?.status).toBe('succeeded');
  });

  it('keeps the error of a failed job for the screen to show', () => {
    const error = { code: 'UNAVAILABLE', message: 'No answer.', fault: 'system', retryable: true };
    const byId = reduceJobEvent({}, {
      type: 'state',
      jobId: 'j1',
      kind: 'backup',
      status: 'failed',
      attempt: 2,
      error,
    } as JobEvent);
    expect(byId.j1).toMatchObject({ status: 'failed', attempt: 2, error });
  });
});
