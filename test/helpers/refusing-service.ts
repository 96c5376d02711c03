import { createServer, type Server } from 'node:http';

/**
 * An HTTP server that refuses every request the way a Google API does (a status and a
 * JSON `error` body): a service the credentials may not read, or whose API is not
 * enabled, which the emulators cannot be made to answer. Counts the requests it got.
 */
export interface RefusingService {
  /** 127.0.0.1:port, to give as an emulator host. */
  host: string;
  requests: number;
  close(): Promise<void>;
}

export async function startRefusingService(
  status: number,
  message: string,
): Promise<RefusingService> {
  const state: RefusingService = { host: '', requests: 0, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    state.requests++;
    req.resume();
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: status, message, errors: [{ message }] } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  state.host = `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}
