import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createClient } from '../../src/shared/api/client.js';
import { METHOD_NAMES } from '../../src/shared/api/contract.js';
import { createDispatcher } from '../../src/shared/api/dispatch.js';
import { createHttpTransport } from '../../src/shared/api/http-transport.js';
import type { JobEvent, Run } from '../../src/shared/jobs.js';
import { CONTENT_SECURITY_POLICY } from '../../src/shared/security-policy.js';
import { expectPageCsp } from '../helpers/csp.js';
import { createApiEvents } from '../../src/engine/api/events.js';
import { createApiHandlers } from '../../src/engine/api/handlers.js';
import { createRuntime, type Runtime } from '../../src/engine/jobs/runtime.js';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { startWebServer, type WebServer } from '../../src/cli/web/server.js';
import { listBackups } from '../../src/engine/operations/list.js';
import { openDestination } from '../../src/engine/storage/index.js';
import { seedDocuments, testProject } from '../helpers/firestore-seed.js';
import { seededRuntime } from '../helpers/seeded-runtime.js';

const host = inject('firestoreEmulatorHost');

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw HTTP request (fetch would not let a test forge the Host header). */
function request(
  port: number,
  o: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: o.method ?? 'GET',
        path: o.path,
        headers: { Host: `127.0.0.1:${port}`, ...o.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

/** The raw text of an event stream, read until `until` matches or the time is up. */
function readStream(
  port: number,
  token: string,
  query: string,
  until: (text: string) => boolean,
  ms: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const req = http.get(
      {
        host: '127.0.0.1',
        port,
        path: `/api/events?${query}`,
        headers: { Authorization: `Bearer ${token}` },
      },
      (res) => {
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
          if (until(text)) finish();
        });
      },
    );
    const finish = (): void => {
      clearTimeout(timer);
      req.destroy();
      resolve(text);
    };
    const timer = setTimeout(finish, ms);
    req.on('error', (e) => (text ? resolve(text) : reject(e)));
  });
}

describe.skipIf(!host)('firebackup ui: the contract over loopback HTTP', () => {
  let dir: string;
  let runtime: Runtime;
  let server: WebServer;
  let projectId: string;
  let destinationId: string;
  const auth = (): Record<string, string> => ({ Authorization: `Bearer ${server.token}` });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fb-web-'));
    let keyring: Keyring;
    ({ runtime, keyring, projectId, destinationId } = await seededRuntime(host, dir, 'web', 3000));
    const renderer = path.join(dir, 'renderer');
    await mkdir(path.join(renderer, 'assets'), { recursive: true });
    await writeFile(path.join(renderer, 'index.html'), '<!doctype html><title>app</title>');
    await writeFile(path.join(renderer, 'assets', 'app.js'), 'console.log(1)');
    await writeFile(path.join(dir, 'secret.txt'), 'outside the renderer');
    server = await startWebServer({
      dispatch: createDispatcher(createApiHandlers(runtime, keyring)),
      events: createApiEvents(runtime),
      staticDir: renderer,
    });
  });
  afterAll(async () => {
    await server?.close();
    runtime?.close();
  });

  it('hands the token over in the URL fragment, 32 random bytes, on 127.0.0.1', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/#token=${server.token}`);
    expect(Buffer.from(server.token, 'base64url')).toHaveLength(32);
  });

  it('answers a contract call through the typed client and the HTTP transport', async () => {
    const transport = createHttpTransport({ origin: server.origin, token: server.token });
    const client = createClient(transport);
    expect(await client.methods['jobs.active']()).toEqual({ ok: true, value: [] });
    expect(await client.methods['backups.list']({ destinationId })).toEqual({
      ok: true,
      value: [],
    });
    expect(
      await client.methods['jobs.startBackup']({ projectId: 'nope', destinationId }),
    ).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    transport.close();
  });

  it('refuses a missing or wrong token with 401, on calls and on the event stream', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { Authorization: 'Bearer wrong' },
      { Authorization: `Bearer ${server.token}x` },
      { Authorization: server.token },
    ];
    for (const headers of attempts) {
      const answer = await request(server.port, {
        method: 'POST',
        path: '/api/jobs.active',
        headers,
        body: '{}',
      });
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.body)).toMatchObject({
        ok: false,
        error: { code: 'PERMISSION_DENIED' },
      });
    }
    // A token in the URL is not accepted either (URLs end up in logs and history).
    const inUrl = await request(server.port, {
      path: `/api/events?event=job&token=${server.token}`,
    });
    expect(inUrl.status).toBe(401);
  });

  it('refuses a foreign Origin or a cross-site fetch with 403, even with the token', async () => {
    const foreign: Record<string, string>[] = [
      { Origin: 'http://evil.example' },
      { Origin: `http://127.0.0.1:${server.port + 1}` },
      { Origin: 'null' },
      { 'Sec-Fetch-Site': 'cross-site' },
    ];
    for (const headers of foreign) {
      const call = await request(server.port, {
        method: 'POST',
        path: '/api/jobs.active',
        headers: { ...auth(), ...headers },
        body: '{}',
      });
      expect(call.status).toBe(403);
      const stream = await request(server.port, {
        path: '/api/events?event=job',
        headers: { ...auth(), ...headers },
      });
      expect(stream.status).toBe(403);
    }
    // The app's own origin, by either name, is fine.
    for (const origin of [server.origin, `http://localhost:${server.port}`]) {
      const ok = await request(server.port, {
        method: 'POST',
        path: '/api/jobs.active',
        headers: { ...auth(), Origin: origin },
        body: '{}',
      });
      expect(ok.status).toBe(200);
    }
  });

  it('refuses a foreign Host with 403 (DNS rebinding), on the API and on pages', async () => {
    for (const hostHeader of [
      `evil.example:${server.port}`,
      'evil.example',
      `127.0.0.1:${server.port + 1}`,
      `127.0.0.1.evil.example:${server.port}`,
    ]) {
      const call = await request(server.port, {
        method: 'POST',
        path: '/api/jobs.active',
        headers: { ...auth(), Host: hostHeader },
        body: '{}',
      });
      expect(call.status, hostHeader).toBe(403);
      const page = await request(server.port, { path: '/', headers: { Host: hostHeader } });
      expect(page.status, hostHeader).toBe(403);
      expect(page.body).not.toContain('<title>app</title>');
    }
    const byName = await request(server.port, {
      path: '/',
      headers: { Host: `localhost:${server.port}` },
    });
    expect(byName.status).toBe(200);
  });

  it('answers INVALID_ARGUMENT as data for bad input to every contract method, and keeps serving', async () => {
    expect(METHOD_NAMES.length).toBeGreaterThanOrEqual(10);
    for (const method of METHOD_NAMES) {
      for (const body of ['42', '"text"', '[1]', '{"unexpected":true}', '{"limit":-1,"x":1}']) {
        const answer = await request(server.port, {
          method: 'POST',
          path: `/api/${method}`,
          headers: { ...auth(), 'Content-Type': 'application/json' },
          body,
        });
        expect(answer.status, `${method} ${body}`).toBe(200);
        expect(JSON.parse(answer.body), `${method} ${body}`).toMatchObject({
          ok: false,
          error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining(method) },
        });
      }
    }
    const transportFaults: [string, string, number][] = [
      ['/api/jobs.active', '{not json', 400],
      ['/api/no.such.method', '{}', 200],
      ['/api/__proto__', '{}', 200],
      ['/api/%E0%A4%A', '{}', 400],
      ['/api/jobs.active', JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) }), 413],
    ];
    for (const [p, body, status] of transportFaults) {
      const answer = await request(server.port, { method: 'POST', path: p, headers: auth(), body });
      expect(answer.status, p).toBe(status);
      expect(JSON.parse(answer.body), p).toMatchObject({
        ok: false,
        error: { code: 'INVALID_ARGUMENT' },
      });
    }
    const get = await request(server.port, { path: '/api/jobs.active', headers: auth() });
    expect(get.status).toBe(405);
    const still = await request(server.port, {
      method: 'POST',
      path: '/api/jobs.active',
      headers: auth(),
    });
    expect(JSON.parse(still.body)).toEqual({ ok: true, value: [] });
  });

  it('pushes job events to the subscriber of "job" only, and the finished run to its own subscriber', async () => {
    const transport = createHttpTransport({ origin: server.origin, token: server.token });
    const client = createClient(transport);
    const jobEvents: JobEvent[] = [];
    const finished: Run[] = [];
    const stopJob = client.subscribe('job', (e) => jobEvents.push(e));
    const stopFinished = client.subscribe('run.finished', (r) => finished.push(r));
    // A raw stream that asked for run.finished only: it must never carry a job event.
    const onlyFinished = readStream(
      server.port,
      server.token,
      'event=run.finished',
      (t) => t.includes('event: run.finished'),
      60_000,
    );
    await new Promise((r) => setTimeout(r, 300)); // let the streams open
    const started = await client.methods['jobs.startBackup']({ projectId, destinationId });
    if (!started.ok) throw new Error(started.error.message);
    const jobId = started.value.jobId;
    const deadline = Date.now() + 60_000;
    while (!finished.some((r) => r.id === jobId) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    stopJob();
    stopFinished();
    transport.close();

    expect(finished).toEqual([expect.objectContaining({ id: jobId, status: 'succeeded' })]);
    expect(jobEvents.some((e) => e.type === 'progress' && e.jobId === jobId)).toBe(true);
    expect(jobEvents).toContainEqual(
      expect.objectContaining({ type: 'state', jobId, status: 'succeeded' }),
    );
    const raw = await onlyFinished;
    expect(raw).toContain('event: run.finished');
    expect(raw).not.toContain('event: job\n');
  });

  it('refuses an event stream that names no event or an unknown one', async () => {
    for (const query of ['', 'event=nope', 'event=job&event=__proto__']) {
      const answer = await request(server.port, {
        path: `/api/events?${query}`,
        headers: auth(),
      });
      expect(answer.status, query).toBe(400);
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    }
  });

  it('serves the renderer with the strict CSP and security headers, and nothing outside it', async () => {
    for (const p of ['/', '/assets/app.js', '/backups/some-screen']) {
      const answer = await request(server.port, { path: p });
      expect(answer.status, p).toBe(200);
      const csp = answer.headers['content-security-policy'] as string;
      if (p.startsWith('/assets/')) expect(csp).toBe(CONTENT_SECURITY_POLICY);
      else expectPageCsp(csp); // a page: the same policy with its own style nonce
      expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.headers['referrer-policy']).toBe('no-referrer');
      expect(answer.headers['x-frame-options']).toBe('DENY');
    }
    expect(
      (await request(server.port, { path: '/assets/app.js' })).headers['content-type'],
    ).toMatch(/^text\/javascript/);
    expect((await request(server.port, { path: '/backups/x' })).body).toContain(
      '<title>app</title>',
    );
    for (const p of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/%2e%2e%2f..%2fsecret.txt',
      '/missing.js',
    ]) {
      const answer = await request(server.port, { path: p });
      expect(answer.body, p).not.toContain('outside the renderer');
      if (p !== '/../secret.txt') expect(answer.status, p).toBe(404);
    }
    const api = await request(server.port, {
      method: 'POST',
      path: '/api/jobs.active',
      headers: auth(),
    });
    expect(api.headers['cache-control']).toBe('no-store');
    expect(api.headers['x-content-type-options']).toBe('nosniff');
  });
});

/** `firebackup ui --no-open` from source in a child process, once it printed its address. */
async function startUi(home: string) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/helpers/cli-entry.ts', 'ui', '--no-open'],
    {
      env: {
        ...process.env,
        FIREBACKUP_HOME: home,
        ENCRYPTION_KEY: randomBytes(32).toString('hex'),
        FIREBACKUP_RENDERER_DIR: path.join(home, 'no-renderer'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const url = await new Promise<URL>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]+/.exec(stdout);
      if (m) resolve(new URL(m[0]));
    });
    void exited.then(() => reject(new Error(`ui exited early: ${stderr}`)));
  });
  return {
    child,
    exited,
    port: Number(url.port),
    token: new URLSearchParams(url.hash.slice(1)).get('token')!,
    stdout: () => stdout,
    stderr: () => stderr,
  };
}

describe('firebackup ui, the command', () => {
  it('prints the address once, serves the contract, and stops cleanly on SIGINT', async () => {
    const ui = await startUi(await mkdtemp(path.join(tmpdir(), 'fb-ui-cli-')));
    const answer = await request(ui.port, {
      method: 'POST',
      path: '/api/runs.history',
      headers: { Authorization: `Bearer ${ui.token}` },
    });
    expect(JSON.parse(answer.body)).toEqual({ ok: true, value: [] });
    expect(ui.stdout().split(ui.token).length - 1).toBe(1);
    ui.child.kill('SIGINT');
    expect(await ui.exited).toBe(0);
    expect(ui.stderr()).toContain('Stopped.');
    expect(ui.stderr()).not.toContain(ui.token);
  }, 60_000);

  it.skipIf(!host)(
    'on SIGINT cancels a running backup cleanly: the run is cancelled and no backup appears',
    async () => {
      const home = await mkdtemp(path.join(tmpdir(), 'fb-ui-stop-'));
      const firebaseProject = testProject('ui-stop');
      await seedDocuments(host, firebaseProject, { count: 8000, withSubcollections: true });
      const setup = createRuntime({ env: { FIREBACKUP_HOME: home } });
      const projectId = setup.catalog.projects.upsert({
        name: 'p',
        firebaseProjectId: firebaseProject,
        emulatorHost: host,
      }).id;
      const destination = path.join(home, 'backups');
      const destinationId = setup.catalog.destinations.upsert({ name: 'd', url: destination }).id;
      setup.close();

      const ui = await startUi(home);
      const progress = readStream(
        ui.port,
        ui.token,
        'event=job',
        (t) => t.includes('"type":"progress"'),
        60_000,
      );
      await new Promise((r) => setTimeout(r, 300)); // the stream is open
      const started = await request(ui.port, {
        method: 'POST',
        path: '/api/jobs.startBackup',
        headers: { Authorization: `Bearer ${ui.token}` },
        body: JSON.stringify({ projectId, destinationId }),
      });
      const jobId = (JSON.parse(started.body) as { value: { jobId: string } }).value.jobId;
      expect(await progress).toContain('"type":"progress"');
      ui.child.kill('SIGINT');
      expect(await ui.exited).toBe(0);
      expect(ui.stderr()).toMatch(/cancelling 1 job/);

      const after = createRuntime({ env: { FIREBACKUP_HOME: home } });
      try {
        expect(after.catalog.runs.get(jobId)).toMatchObject({ status: 'cancelled' });
        expect(after.catalog.backups.list({ destinationId })).toEqual([]);
      } finally {
        after.close();
      }
      const keyring = new Keyring(MasterKey.generate());
      expect(await listBackups(await openDestination(destination, {}), keyring)).toEqual([]);
    },
    120_000,
  );
});

describe('firebackup ui: what it refuses before serving', () => {
  const noop = {
    dispatch: async () => ({ ok: true as const, value: null }),
    events: { subscribe: () => () => {} },
  };

  it('will not listen anywhere but 127.0.0.1', async () => {
    for (const bind of ['0.0.0.0', '::', '192.168.1.10', 'localhost', '::1']) {
      await expect(startWebServer({ ...noop, host: bind })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('127.0.0.1 only'),
      });
    }
  });

  it('gives the client UNAVAILABLE as data, not a throw, once the server is gone', async () => {
    const server = await startWebServer(noop);
    await server.close();
    const client = createClient(
      createHttpTransport({ origin: server.origin, token: server.token }),
    );
    expect(await client.methods['jobs.active']()).toMatchObject({
      ok: false,
      error: {
        code: 'UNAVAILABLE',
        retryable: true,
        message: expect.stringContaining('firebackup ui'),
      },
    });
  });

  it('serves a placeholder page, under the same CSP, when the renderer is not built', async () => {
    const server = await startWebServer({ ...noop, staticDir: path.join(tmpdir(), 'fb-no-such') });
    try {
      const page = await request(server.port, { path: '/' });
      expect(page.status).toBe(200);
      expect(page.body).toMatch(/have not been built/);
      expect(page.body).not.toMatch(/<script|style=/);
      expectPageCsp(page.headers['content-security-policy'] as string);
    } finally {
      await server.close();
    }
  });
});
