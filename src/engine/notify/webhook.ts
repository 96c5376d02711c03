import { createHmac } from 'node:crypto';
import { AppError } from '../../shared/errors.js';
import type { Notification, Notifier } from './notifier.js';

/**
 * Webhook notifications for headless machines: a JSON POST signed with HMAC-SHA256.
 *
 * Receivers verify `X-FireBackup-Signature: sha256=<hex>` = HMAC(secret,
 * `<X-FireBackup-Timestamp>.<raw body>`) and reject old timestamps, which stops replays.
 * The secret comes from FIREBACKUP_WEBHOOK_SECRET (or config) and is never logged or
 * put in an error message.
 */

export const SIGNATURE_HEADER = 'x-firebackup-signature';
export const TIMESTAMP_HEADER = 'x-firebackup-timestamp';
export const EVENT_HEADER = 'x-firebackup-event';

export interface WebhookOptions {
  url: string;
  /** HMAC key; without one, requests are sent unsigned (and receivers should refuse them). */
  secret?: string;
  timeoutMs?: number;
  now?: () => Date;
}

export function signPayload(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The URL as safe to show: no user info, no query (tokens often hide there). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

export class WebhookNotifier implements Notifier {
  private readonly secret: string | undefined;

  constructor(private readonly options: WebhookOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch {
      throw new AppError(
        'INVALID_ARGUMENT',
        `The webhook URL is not a valid URL. Use http(s)://host/path.`,
      );
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      throw new AppError(
        'INVALID_ARGUMENT',
        `The webhook URL must start with https:// (or http:// on a trusted network).`,
      );
    }
    this.secret = options.secret || undefined;
  }

  /** Builds the notifier from the environment, or nothing when no URL is configured. */
  static fromEnv(
    env: NodeJS.ProcessEnv = process.env,
    url = env.FIREBACKUP_WEBHOOK_URL,
  ): WebhookNotifier | undefined {
    if (!url) return undefined;
    return new WebhookNotifier({
      url,
      ...(env.FIREBACKUP_WEBHOOK_SECRET ? { secret: env.FIREBACKUP_WEBHOOK_SECRET } : {}),
    });
  }

  async notify(notification: Notification): Promise<void> {
    const body = JSON.stringify({ type: notification.kind, ...notification });
    const timestamp = String(Math.floor((this.options.now?.() ?? new Date()).getTime() / 1000));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'FireBackup-Webhook/1',
      [EVENT_HEADER]: notification.kind,
      [TIMESTAMP_HEADER]: timestamp,
    };
    if (this.secret) headers[SIGNATURE_HEADER] = signPayload(this.secret, timestamp, body);
    const where = redactUrl(this.options.url);
    let res: Response;
    try {
      res = await fetch(this.options.url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (cause) {
      throw new AppError(
        'UNAVAILABLE',
        `Could not reach the webhook at ${where}: ${(cause as Error).message}. Check the URL and that the receiver is up.`,
        {
          cause,
        },
      );
    }
    // Drain the body so the connection can be reused.
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) {
      throw new AppError(
        res.status >= 500 || res.status === 429 ? 'UNAVAILABLE' : 'PERMISSION_DENIED',
        `The webhook at ${where} answered HTTP ${res.status}. ${res.status === 401 || res.status === 403 ? 'Check that FIREBACKUP_WEBHOOK_SECRET matches the receiver.' : 'Check the receiver.'}`,
      );
    }
  }
}
