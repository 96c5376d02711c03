/**
 * A small HTTP/1.1 client for the bench's open-loop load generator (open-loop.ts):
 * keep-alive sockets, each request's bytes written once per target, and a reader that
 * looks only for the status code and where the answer ends (Content-Length, or chunked).
 *
 * Why not node:http: the generator runs on the same two cores as the server and the
 * PostgreSQL it measures, and node:http's client spent 0.28 ms of CPU per request on a
 * small answer and 0.63–0.76 ms on a 200-row page (80 KB): as much as the server itself
 * (docs/benchmarks.md). That CPU is taken from the processes under test, and the tail it
 * adds is the generator's, not the server's. autocannon reads answers the same lean way.
 */
import { connect, type Socket } from 'node:net';

/** A request as it goes on the wire, built once and sent as many times as needed. */
export function requestBytes(
  url: string,
  method: string,
  path: string,
  headers: Readonly<Record<string, string>>,
  body?: string,
): Buffer {
  const { host } = new URL(url);
  const payload = body === undefined ? undefined : Buffer.from(body);
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  if (payload !== undefined) head += `content-length: ${payload.length}\r\n`;
  head += '\r\n';
  return payload === undefined
    ? Buffer.from(head, 'latin1')
    : Buffer.concat([Buffer.from(head, 'latin1'), payload]);
}

const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/**
 * Where one answer ends, fed the socket's bytes as they come (it keeps none of them past
 * the call but the head of an answer cut across reads, copied). `feed` returns the answer's
 * status once it is complete, 0 while more is needed; it throws on what it cannot frame
 * (an answer without a length that is not chunked: it would end only with the socket).
 */
export class AnswerReader {
  private head: Buffer[] = [];
  private headBytes = 0;
  private status = 0;
  /** Body bytes still to skip; -1 while the head is read. */
  private remaining = -1;
  private chunked = false;
  /** Chunked: the size line (or trailer line) read so far; undefined inside chunk data. */
  private line: string | undefined;
  private trailers = false;

  feed(bytes: Buffer): number {
    let at = 0;
    if (this.remaining < 0) {
      at = this.readHead(bytes);
      if (at < 0) return 0;
    }
    if (!this.chunked) {
      this.remaining -= bytes.length - at;
      if (this.remaining > 0) return 0;
      if (this.remaining < 0) throw new Error('more bytes than the answer announced');
      return this.done();
    }
    return this.readChunks(bytes, at) ? this.done() : 0;
  }

  /** Reads head bytes; returns the offset of the body in `bytes`, or -1 for more. */
  private readHead(bytes: Buffer): number {
    this.head.push(bytes);
    this.headBytes += bytes.length;
    const all = this.head.length === 1 ? bytes : Buffer.concat(this.head, this.headBytes);
    // The end may straddle two reads: search from just before the new bytes.
    const from = Math.max(0, this.headBytes - bytes.length - 3);
    const end = all.indexOf(HEAD_END, from);
    if (end < 0) {
      // Kept across reads: a copy, since the client reads into one reused buffer.
      this.head = [Buffer.from(all)];
      return -1;
    }
    const text = all.toString('latin1', 0, end);
    this.status = Number(text.slice(9, 12));
    const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(text)?.[1];
    this.chunked = /\r\ntransfer-encoding:[ \t]*chunked/i.test(text);
    if (this.status === 204 || this.status === 304) this.remaining = 0;
    else if (this.chunked) this.remaining = 0;
    else if (length !== undefined) this.remaining = Number(length);
    else throw new Error(`an answer (${this.status}) without a length, not chunked`);
    this.head = [];
    this.headBytes = 0;
    this.line = '';
    // The body's offset within this read.
    return end + HEAD_END.length - (all.length - bytes.length);
  }

  /** Walks chunked framing; true once the last chunk and its trailers are read. */
  private readChunks(bytes: Buffer, at: number): boolean {
    while (at < bytes.length) {
      if (this.line === undefined) {
        // Inside a chunk's data and its closing CRLF.
        const take = Math.min(this.remaining, bytes.length - at);
        this.remaining -= take;
        at += take;
        if (this.remaining === 0) this.line = '';
        continue;
      }
      const eol = bytes.indexOf(CRLF[1]!, at);
      if (eol < 0) {
        this.line += bytes.toString('latin1', at);
        return false;
      }
      const line = (this.line + bytes.toString('latin1', at, eol)).replace(/\r$/, '');
      at = eol + 1;
      this.line = '';
      if (this.trailers) {
        if (line === '') return true;
        continue;
      }
      const size = parseInt(line, 16);
      if (Number.isNaN(size)) throw new Error(`a chunk size line that is not hex: ${line}`);
      if (size === 0) this.trailers = true;
      else {
        this.remaining = size + CRLF.length;
        this.line = undefined;
      }
    }
    return false;
  }

  private done(): number {
    const status = this.status;
    this.remaining = -1;
    this.chunked = false;
    this.trailers = false;
    this.line = undefined;
    return status;
  }
}

interface Connection {
  socket: Socket;
  reader: AnswerReader;
  /** Settles the request in flight: its status, or 0 when it failed. */
  settle?: (status: number) => void;
}

/**
 * Keep-alive connections to one origin, one request in flight on each (no pipelining,
 * as a browser or node:http agent does), as many connections as the load needs.
 */
export class LeanHttpClient {
  private readonly idle: Connection[] = [];
  private readonly open = new Set<Connection>();
  private readonly host: string;
  private readonly port: number;
  private readonly readBuffer = Buffer.alloc(256 * 1024);

  constructor(url: string) {
    const { hostname, port } = new URL(url);
    this.host = hostname;
    this.port = Number(port || 80);
  }

  /** Sends `bytes` (requestBytes); resolves with the answer's status, 0 when it failed. */
  send(bytes: Buffer): Promise<number> {
    const connection = this.idle.pop() ?? this.connect();
    return new Promise((resolve) => {
      connection.settle = resolve;
      connection.socket.write(bytes);
    });
  }

  /** Closes every connection (requests still in flight settle with 0). */
  close(): void {
    for (const connection of this.open) connection.socket.destroy();
  }

  /** Bytes read on `connection`: once they end its answer, it settles and is idle again. */
  private received(connection: Connection, bytes: Buffer): void {
    let status: number;
    try {
      status = connection.reader.feed(bytes);
    } catch {
      connection.socket.destroy();
      return;
    }
    if (status === 0) return;
    const settle = connection.settle;
    connection.settle = undefined;
    this.idle.push(connection);
    settle?.(status);
  }

  private connect(): Connection {
    // Every read lands in one buffer of the client's (net's `onread`), not in a fresh one
    // per read: 40 MB/s of answers would otherwise be as many allocations, and the GC
    // pauses they bring would make the generator send late.
    const socket = connect({
      host: this.host,
      port: this.port,
      noDelay: true,
      onread: {
        buffer: this.readBuffer,
        callback: (n) => {
          this.received(connection, this.readBuffer.subarray(0, n));
          return true;
        },
      },
    });
    const connection: Connection = { socket, reader: new AnswerReader() };
    this.open.add(connection);
    // An error is followed by close; a close ends the connection and fails what it carried.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.open.delete(connection);
      const i = this.idle.indexOf(connection);
      if (i >= 0) this.idle.splice(i, 1);
      const settle = connection.settle;
      connection.settle = undefined;
      settle?.(0);
    });
    return connection;
  }
}
