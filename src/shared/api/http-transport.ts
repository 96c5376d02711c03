import type { ErrorData } from '../errors.js';
import type { Transport } from './client.js';
import type { EventName } from './contract.js';
import type { Result } from './dispatch.js';

/**
 * The Transport of the loopback web mode (`firebackup ui`), written against `fetch` and
 * web streams only, so the renderer in a browser, Node tests and the bench share it.
 * Calls are `POST /api/<method>`; events arrive as Server-Sent Events read from a fetch
 * stream, because EventSource cannot send the token in a header (and a token in the URL
 * would end up in logs and history).
 */
export interface HttpTransportOptions {
  /** e.g. http://127.0.0.1:5123 */
  origin: string;
  token: string;
  fetch?: typeof fetch;
  /** Wait before reopening a dropped event stream. */
  reconnectMs?: number;
}

export interface HttpTransport extends Transport {
  /** Closes every event stream. */
  close(): void;
}

const unreachable = (detail: string): ErrorData => ({
  code: 'UNAVAILABLE',
  message: `Could not reach FireBackup (${detail}). Is "firebackup ui" still running? Start it again and open the address it prints.`,
  fault: 'system',
  retryable: true,
});

export function createHttpTransport(o: HttpTransportOptions): HttpTransport {
  const doFetch = o.fetch ?? fetch;
  const headers = { Authorization: `Bearer ${o.token}` };
  const streams = new Map<EventName, { listeners: Set<(p: unknown) => void>; stop: () => void }>();

  async function call(method: string, input: unknown): Promise<Result<unknown>> {
    let response: Response;
    try {
      response = await doFetch(`${o.origin}/api/${encodeURIComponent(method)}`, {
        method: 'POST',
        headers: { ...headers, 'Content-Type': 'application/json' },
        body: JSON.stringify(input ?? {}),
      });
    } catch (error) {
      return {
        ok: false,
        error: unreachable(error instanceof Error ? error.message : 'no answer'),
      };
    }
    const body = (await response.json().catch(() => undefined)) as Result<unknown> | undefined;
    if (body && typeof body === 'object' && typeof body.ok === 'boolean') return body;
    return { ok: false, error: unreachable(`HTTP ${response.status}`) };
  }

  /** One stream per event name, shared by its listeners; reopened until nobody listens. */
  function open(event: EventName, listeners: Set<(p: unknown) => void>): () => void {
    let controller = new AbortController();
    let stopped = false;
    const run = async (): Promise<void> => {
      while (!stopped) {
        controller = new AbortController();
        try {
          const response = await doFetch(
            `${o.origin}/api/events?event=${encodeURIComponent(event)}`,
            { headers: { ...headers, Accept: 'text/event-stream' }, signal: controller.signal },
          );
          if (response.ok && response.body) {
            await readEvents(response.body, event, (payload) => {
              for (const listener of listeners) listener(payload);
            });
          }
        } catch {
          // Dropped or refused: try again below unless we were stopped.
        }
        if (!stopped) await new Promise((r) => setTimeout(r, o.reconnectMs ?? 1000));
      }
    };
    void run();
    return () => {
      stopped = true;
      controller.abort();
    };
  }

  return {
    call,
    subscribe(event, listener) {
      let stream = streams.get(event);
      if (!stream) {
        const listeners = new Set<(p: unknown) => void>();
        stream = { listeners, stop: open(event, listeners) };
        streams.set(event, stream);
      }
      const entry = stream;
      entry.listeners.add(listener);
      return () => {
        entry.listeners.delete(listener);
        if (entry.listeners.size === 0 && streams.get(event) === entry) {
          entry.stop();
          streams.delete(event);
        }
      };
    },
    close() {
      for (const stream of streams.values()) stream.stop();
      streams.clear();
    },
  };
}

/** Parses a text/event-stream body, handing each `event: <name>` message's data on. */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  event: EventName,
  deliver: (payload: unknown) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const message = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = 'message';
      const data: string[] = [];
      for (const line of message.split('\n')) {
        if (line.startsWith('event: ')) name = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (name === event && data.length > 0) deliver(JSON.parse(data.join('\n')));
    }
  }
}
