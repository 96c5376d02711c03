import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Notification } from '../../src/engine/notify/notifier.js';
import { WebhookNotifier } from '../../src/engine/notify/webhook.js';
import type { Run } from '../../src/shared/jobs.js';

const SECRET = 'hook-secret-do-not-log';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let url: string;
let received: Received[];
let status: number;

beforeEach(async () => {
  received = [];
  status = 204;
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/firebackup?token=abc`;
});
afterEach(() => new Promise<void>((r) => server.close(() => r())));

const run: Run = {
  id: 'run_1',
  kind: 'backup',
  status: 'failed',
  trigger: 'schedule',
  projectId: 'prj_1',
  destinationId: 'dst_1',
  scheduleId: 'sch_1',
  backupId: null,
  scheduledFor: '2024-05-01T02:00:00.000Z',
  startedAt: '2024-05-01T02:00:00.000Z',
  finishedAt: '2024-05-01T02:01:00.000Z',
  attempts: 3,
  counts: null,
  bytes: null,
  error: { code: 'UNAVAILABLE', message: 'network down', fault: 'system', retryable: true },
  detail: null,
};
const notification: Notification = {
  kind: 'run.failed',
  message: 'Schedule "nightly" failed after 3 attempts: network down',
  schedule: { id: 'sch_1', name: 'nightly' },
  project: { id: 'prj_1', name: 'demo' },
  run,
  at: '2024-05-01T02:01:00.000Z',
};

/** What a receiver does: recompute the HMAC over timestamp + raw body, compare in constant time. */
function verify(r: Received, secret: string): boolean {
  const ts = String(r.headers['x-firebackup-timestamp']);
  const expected = Buffer.from(
    `sha256=${createHmac('sha256', secret).update(`${ts}.${r.body}`).digest('hex')}`,
  );
  const got = Buffer.from(String(r.headers['x-firebackup-signature']));
  return got.length === expected.length && timingSafeEqual(got, expected);
}

describe('webhook notifier', () => {
  it('POSTs the notification as JSON with a verifiable HMAC-SHA256 signature', async () => {
    await new WebhookNotifier({
      url,
      secret: SECRET,
      now: () => new Date('2024-05-01T02:01:00Z'),
    }).notify(notification);
    expect(received).toHaveLength(1);
    const r = received[0]!;
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['x-firebackup-event']).toBe('run.failed');
    expect(r.headers['x-firebackup-timestamp']).toBe(
      String(Date.parse('2024-05-01T02:01:00Z') / 1000),
    );
    expect(JSON.parse(r.body)).toMatchObject({
      type: 'run.failed',
      schedule: { name: 'nightly' },
      run: { id: 'run_1' },
    });
    expect(verify(r, SECRET)).toBe(true);
    expect(verify(r, 'wrong-secret')).toBe(false);
    // A tampered body no longer matches.
    expect(verify({ ...r, body: r.body.replace('nightly', 'daily') }, SECRET)).toBe(false);
    expect(r.body).not.toContain(SECRET);
  });

  it('takes URL and secret from the environment', async () => {
    const n = WebhookNotifier.fromEnv({
      FIREBACKUP_WEBHOOK_URL: url,
      FIREBACKUP_WEBHOOK_SECRET: SECRET,
    });
    await n!.notify(notification);
    expect(verify(received[0]!, SECRET)).toBe(true);
    expect(WebhookNotifier.fromEnv({})).toBeUndefined();
  });

  it('fails with an error that names the receiver but not its token or the secret', async () => {
    status = 401;
    const error = await new WebhookNotifier({ url, secret: SECRET })
      .notify(notification)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PERMISSION_DENIED' });
    const message = (error as Error).message;
    expect(message).toMatch(/HTTP 401.*FIREBACKUP_WEBHOOK_SECRET/);
    expect(message).toContain('/hooks/firebackup');
    expect(message).not.toContain('token=abc');
    expect(message).not.toContain(SECRET);
  });

  it('reports an unreachable receiver as a retryable failure', async () => {
    await new Promise<void>((r) => server.close(() => r()));
    const error = await new WebhookNotifier({ url }).notify(notification).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    server = createServer().listen(0); // for afterEach
  });
});
