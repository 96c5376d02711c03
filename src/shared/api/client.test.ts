import { describe, expect, expectTypeOf, it } from 'vitest';
import { AppError } from '../errors.js';
import type { Run } from '../jobs.js';
import { createClient } from './client.js';
import { METHOD_NAMES, contract } from './contract.js';
import { createDispatcher, type Handlers, type Result } from './dispatch.js';
import { createEventBus } from './event-bus.js';
import { createMemoryTransport } from './memory-transport.js';

/** Handlers for the pure client tests: only what these tests call answers. */
function handlers(): Handlers {
  const unused = async (): Promise<never> => {
    throw new AppError('INTERNAL', 'not under test');
  };
  return {
    ...(Object.fromEntries(METHOD_NAMES.map((m) => [m, unused])) as unknown as Handlers),
    'runs.history': async ({ limit }) => [
      { id: `limit-${limit}` } as unknown as Run, // shape is not under test here
    ],
    'jobs.startBackup': async ({ projectId }) => ({ jobId: `job-${projectId}` }),
    'jobs.cancel': async () => {
      throw new AppError('NOT_FOUND', 'No such job.');
    },
  };
}

describe('the typed client over a transport', () => {
  it('has exactly one function per contract method, no more', () => {
    const client = createClient(
      createMemoryTransport(createDispatcher(handlers()), createEventBus()),
    );
    expect(Object.keys(client.methods).sort()).toEqual(Object.keys(contract).sort());
  });

  it('calls through the dispatcher: defaults applied, values and errors as data', async () => {
    const client = createClient(
      createMemoryTransport(createDispatcher(handlers()), createEventBus()),
    );
    const history = await client.methods['runs.history']();
    expect(history).toEqual({ ok: true, value: [{ id: 'limit-50' }] });
    const started = await client.call('jobs.startBackup', { projectId: 'p', destinationId: 'd' });
    expectTypeOf(started).toEqualTypeOf<Result<{ jobId: string }>>();
    expect(started).toEqual({ ok: true, value: { jobId: 'job-p' } });
    expect(await client.methods['jobs.cancel']({ jobId: 'x' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND', message: 'No such job.' },
    });
    const bad = await client.methods['jobs.startBackup']({ projectId: 'p' } as never);
    expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
  });

  it('delivers only the events subscribed to, until unsubscribed, as JSON crossed the wire', () => {
    const bus = createEventBus();
    const client = createClient(createMemoryTransport(createDispatcher(handlers()), bus));
    const jobs: unknown[] = [];
    const stop = client.subscribe('job', (e) => jobs.push(e));
    const at = new Date('2026-01-01T00:00:00Z');
    bus.emit('job', { type: 'state', jobId: 'j', at });
    bus.emit('run.finished', { id: 'r' });
    stop();
    bus.emit('job', { type: 'state', jobId: 'late' });
    // A Date becomes its ISO string, exactly as over IPC or HTTP.
    expect(jobs).toEqual([{ type: 'state', jobId: 'j', at: at.toISOString() }]);
  });
});
