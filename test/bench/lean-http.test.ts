import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnswerReader, LeanHttpClient, requestBytes } from '../../bench/lean-http.js';

// A real node:http server answering in each framing the bench's client must read.
let server: Server;
let url = '';
let connections = 0;
const sockets = new Set<Socket>();
const bodies: string[] = [];
const big = 'x'.repeat(80_000);

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      bodies.push(body);
      const path = request.url ?? '';
      if (path === '/big') response.end(big);
      else if (path === '/chunked') {
        // Several writes without a length: node:http frames them as chunks.
        response.write('a'.repeat(5000));
        setTimeout(() => {
          response.write('b'.repeat(70_000));
          response.end('c');
        }, 5);
      } else if (path === '/empty') {
        response.statusCode = 204;
        response.end();
      } else if (path === '/close') {
        response.setHeader('connection', 'close');
        response.end('bye');
      } else if (path === '/hang-up') request.socket.destroy();
      else {
        response.statusCode = path === '/missing' ? 404 : 200;
        response.end(`{"path":"${path}"}`);
      }
    });
  });
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const get = (path: string) => requestBytes(url, 'GET', path, { authorization: 'Bearer t' });

describe('the bench load generator HTTP client', () => {
  it('reads answers framed by length, chunked, and without a body, on one kept-alive connection', async () => {
    const client = new LeanHttpClient(url);
    const before = connections;
    const statuses: number[] = [];
    for (const path of ['/a', '/big', '/chunked', '/empty', '/missing', '/big', '/chunked'])
      statuses.push(await client.send(get(path)));
    expect(statuses).toEqual([200, 200, 200, 204, 404, 200, 200]);
    // Every answer ended where it should: the next one on the same connection parsed.
    expect(connections - before).toBe(1);
    client.close();
  });

  it('sends a body with its length, and opens more connections only for requests in flight together', async () => {
    const client = new LeanHttpClient(url);
    const before = connections;
    bodies.length = 0;
    const post = requestBytes(url, 'POST', '/a', { 'content-type': 'application/json' }, '{"n":1}');
    const statuses = await Promise.all([1, 2, 3].map(() => client.send(post)));
    expect(statuses).toEqual([200, 200, 200]);
    expect(bodies).toEqual(['{"n":1}', '{"n":1}', '{"n":1}']);
    expect(connections - before).toBe(3);
    await client.send(get('/a'));
    expect(connections - before).toBe(3);
    client.close();
  });

  it('fails a request whose connection drops (0), and carries on with a new one', async () => {
    const client = new LeanHttpClient(url);
    expect(await client.send(get('/hang-up'))).toBe(0);
    expect(await client.send(get('/close'))).toBe(200);
    // The server closed that one after answering: the next request needs a new connection.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await client.send(get('/a'))).toBe(200);
    client.close();
  });

  it('fails when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const client = new LeanHttpClient(`http://127.0.0.1:${port}`);
    expect(await client.send(get('/a'))).toBe(0);
  });
});

describe('AnswerReader', () => {
  const feedAll = (reader: AnswerReader, text: string, cut: number) => {
    const bytes = Buffer.from(text, 'latin1');
    const results: number[] = [];
    // Each piece is fed from one reused buffer, as the client reads (net's `onread`).
    const scratch = Buffer.alloc(cut);
    for (let i = 0; i < bytes.length; i += cut) {
      const n = bytes.copy(scratch, 0, i, i + cut);
      results.push(reader.feed(scratch.subarray(0, n)));
    }
    return results;
  };

  it('finds the end of an answer however its bytes are cut, byte by byte included', () => {
    const length = 'HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhello';
    const chunked =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n10\r\n' +
      '0123456789abcdef\r\n0\r\nx-trailer: 1\r\n\r\n';
    for (const cut of [1, 2, 3, 7, 13, 30, 1000]) {
      const reader = new AnswerReader();
      for (const [text, status] of [
        [length, 201],
        [chunked, 200],
        [length, 201],
      ] as const) {
        const results = feedAll(reader, text, cut);
        // Complete exactly at the last byte, not before.
        expect(
          results.slice(0, -1).every((r) => r === 0),
          `cut ${cut}`,
        ).toBe(true);
        expect(results.at(-1), `cut ${cut}`).toBe(status);
      }
    }
  });

  it('refuses an answer it cannot frame, and one longer than announced', () => {
    expect(() => new AnswerReader().feed(Buffer.from('HTTP/1.1 200 OK\r\n\r\nabc'))).toThrow(
      /without a length/,
    );
    expect(() =>
      new AnswerReader().feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nabc')),
    ).toThrow(/more bytes/);
    expect(() =>
      new AnswerReader().feed(
        Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'),
      ),
    ).toThrow(/not hex/);
  });
});
