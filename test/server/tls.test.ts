import { writeFileSync } from 'node:fs';
import { get } from 'node:https';
import path from 'node:path';
import { connect, createServer, type ConnectionOptions } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/server/config.js';
import { openDb } from '../../src/server/db/db.js';
import { postgresConnection } from '../../src/server/db/ssl.js';
import { GUIDE_TLS12_CIPHERS } from '../../src/server/tls.js';
import { freePort } from '../helpers/firestore-emulator.js';
import { hasOpenssl, TestCa, type Pem } from '../helpers/tls-certs.js';
import { postgresBin, startPostgres, type RunningService } from '../setup/pg-redis.js';
import { SECRET, startTestServer, type TestServer } from './harness.js';

const URL_BASE = 'postgresql://fb:pw@db.internal:5432/firebackup';

describe('DATABASE_URL sslmode and DATABASE_SSL_* files', () => {
  const files: Record<string, string> = { '/ca.pem': 'CA', '/c.pem': 'CERT', '/k.pem': 'KEY' };
  const read = (file: string) => {
    if (file in files) return files[file]!;
    throw new Error(`ENOENT: no such file, open '${file}'`);
  };
  const conn = (url: string, extra: Record<string, string> = {}) =>
    postgresConnection({ DATABASE_URL: url, ...extra }, read);

  it('verify-full checks the chain and the host name, with the CA and client certificate given', () => {
    const c = conn(`${URL_BASE}?sslmode=verify-full`, {
      DATABASE_SSL_CA: '/ca.pem',
      DATABASE_SSL_CERT: '/c.pem',
      DATABASE_SSL_KEY: '/k.pem',
    });
    expect(c.connectionString).toBe(URL_BASE);
    expect(c.ssl).toEqual({ ca: 'CA', cert: 'CERT', key: 'KEY', rejectUnauthorized: true });
  });

  it('verify-ca checks the chain but not the name; require without a CA checks nothing; disable is plain', () => {
    const ca = conn(`${URL_BASE}?sslmode=verify-ca`, { DATABASE_SSL_CA: '/ca.pem' }).ssl;
    expect(ca).toMatchObject({ ca: 'CA', rejectUnauthorized: true });
    expect(ca && ca.checkServerIdentity?.('db.internal', {} as never)).toBeUndefined();
    expect(conn(`${URL_BASE}?sslmode=require`).ssl).toMatchObject({ rejectUnauthorized: false });
    expect(conn(`${URL_BASE}?sslmode=require`, { DATABASE_SSL_CA: '/ca.pem' }).ssl).toMatchObject({
      rejectUnauthorized: true,
    });
    expect(conn(`${URL_BASE}?sslmode=disable`).ssl).toBe(false);
    expect(conn(URL_BASE).ssl).toBe(false);
    // Certificates without an sslmode: the guide's verify-full.
    expect(conn(URL_BASE, { DATABASE_SSL_CA: '/ca.pem' }).ssl).toEqual({
      ca: 'CA',
      rejectUnauthorized: true,
    });
  });

  it('refuses unsafe or contradictory settings, naming each variable and what to do', () => {
    const problems = (url: string, extra: Record<string, string> = {}) => {
      try {
        conn(url, extra);
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(problems(`${URL_BASE}?sslmode=prefer`)).toMatch(
      /sslmode=prefer, which may fall back to an unencrypted connection.*use sslmode=verify-full/,
    );
    expect(problems(`${URL_BASE}?sslmode=bogus`)).toMatch(/sslmode=bogus; use one of disable/);
    expect(problems(`${URL_BASE}?sslmode=disable`, { DATABASE_SSL_CA: '/ca.pem' })).toMatch(
      /DATABASE_SSL_\* files are set but DATABASE_URL has sslmode=disable/,
    );
    expect(problems(`${URL_BASE}?sslmode=verify-full`, { DATABASE_SSL_CERT: '/c.pem' })).toMatch(
      /DATABASE_SSL_CERT and DATABASE_SSL_KEY go together/,
    );
    expect(problems(`${URL_BASE}?sslmode=verify-full`, { DATABASE_SSL_CA: '/nope.pem' })).toMatch(
      /DATABASE_SSL_CA \(\/nope\.pem\) cannot be read: ENOENT/,
    );
    expect(problems(`${URL_BASE}?sslmode=verify-full&sslrootcert=/ca.pem`)).toMatch(
      /DATABASE_URL names sslrootcert; put the file in DATABASE_SSL_CA instead/,
    );
  });

  it('loadConfig reports them with the other variables, and TLS files that do not go together', () => {
    const run = (env: Record<string, string>) => {
      try {
        loadConfig({ JWT_SECRET: SECRET, ...env });
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    };
    const message = run({
      DATABASE_URL: `${URL_BASE}?sslmode=verify-full`,
      DATABASE_SSL_CA: '/definitely/missing/ca.pem',
      TLS_CERT_FILE: '/etc/cert.pem',
    });
    expect(message).toMatch(/cannot start; fix these environment variables/);
    expect(message).toMatch(/DATABASE_SSL_CA \(\/definitely\/missing\/ca\.pem\) cannot be read/);
    expect(message).toMatch(/TLS_CERT_FILE and TLS_KEY_FILE go together/);
    expect(run({ DATABASE_SSL_CA: '/x.pem' })).toMatch(
      /DATABASE_SSL_\* files are set without DATABASE_URL/,
    );
    expect(loadConfig({ JWT_SECRET: SECRET, DATABASE_URL: URL_BASE }).postgres).toEqual({
      connectionString: URL_BASE,
      ssl: false,
    });
  });
});

describe.skipIf(!hasOpenssl())('TLS with real certificates', () => {
  let ca: TestCa;
  let serverPem: Pem;
  beforeAll(() => {
    ca = new TestCa();
    serverPem = ca.issue('server', 'localhost', ['DNS:localhost', 'IP:127.0.0.1']);
  });

  describe('terminated by the server itself (TLS_CERT_FILE, TLS_KEY_FILE)', () => {
    let server: TestServer;
    let port: number;
    beforeAll(async () => {
      server = await startTestServer({
        TLS_CERT_FILE: serverPem.certFile,
        TLS_KEY_FILE: serverPem.keyFile,
      });
      const address = await server.app.listen({ host: '127.0.0.1', port: 0 });
      port = Number(new URL(address).port);
    });
    afterAll(() => server.close());

    /** The negotiated protocol and cipher, or the handshake's error. */
    const handshake = (target: number, options: ConnectionOptions) =>
      new Promise<{ protocol?: string | null; cipher?: string; error?: string }>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port: target, ca: ca.ca.cert, ...options });
        socket.once('secureConnect', () => {
          resolve({ protocol: socket.getProtocol(), cipher: socket.getCipher().standardName });
          socket.end();
        });
        socket.once('error', (error) => resolve({ error: error.message }));
      });
    // OpenSSL 3 allows TLS 1.0/1.1 only at security level 0: the old client says so.
    const OLD_CLIENT = {
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.1',
      ciphers: 'DEFAULT@SECLEVEL=0',
    } as const;

    it('refuses a TLS 1.1 client (which a permissive server accepts: the control)', async () => {
      const permissive = createServer({
        cert: serverPem.cert,
        key: serverPem.key,
        minVersion: 'TLSv1',
        ciphers: 'DEFAULT@SECLEVEL=0',
      });
      await new Promise<void>((r) => permissive.listen(0, '127.0.0.1', r));
      const control = await handshake((permissive.address() as { port: number }).port, OLD_CLIENT);
      permissive.close();
      expect(control.protocol).toBe('TLSv1.1');
      const refused = await handshake(port, OLD_CLIENT);
      expect(refused.error).toMatch(/protocol version|alert|handshake/i);
    });

    it("accepts TLS 1.2 with the guide's ciphers only, and TLS 1.3", async () => {
      const tls12 = await handshake(port, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
      expect(tls12.protocol).toBe('TLSv1.2');
      expect(GUIDE_TLS12_CIPHERS.map((c) => c.replace(/-/g, '_'))).toContain(
        tls12
          .cipher!.replace(/^TLS_/, '')
          .replace('_WITH_', '_')
          .replace('AES_128_GCM', 'AES128_GCM')
          .replace('AES_256_GCM', 'AES256_GCM')
          .replace('CHACHA20_POLY1305_SHA256', 'CHACHA20_POLY1305'),
      );
      // A TLS 1.2 client offering only a suite outside the list (no forward secrecy, CBC).
      const weak = await handshake(port, {
        minVersion: 'TLSv1.2',
        maxVersion: 'TLSv1.2',
        ciphers: 'AES128-SHA256:ECDHE-ECDSA-AES128-SHA256',
      });
      expect(weak.error).toMatch(/handshake failure|no shared cipher|alert/i);
      expect((await handshake(port, { minVersion: 'TLSv1.3' })).protocol).toBe('TLSv1.3');
    });

    it('serves the API over HTTPS with the security headers', async () => {
      const res = await new Promise<{ status?: number; hsts?: string | string[]; body: string }>(
        (resolve, reject) => {
          get(`https://localhost:${port}/healthz`, { ca: ca.ca.cert }, (r) => {
            let body = '';
            r.on('data', (d: Buffer) => (body += d.toString()));
            r.on('end', () =>
              resolve({
                status: r.statusCode,
                hsts: r.headers['strict-transport-security'],
                body,
              }),
            );
          }).on('error', reject);
        },
      );
      expect(res.status).toBe(200);
      expect(res.hsts).toMatch(/max-age=31536000/);
      expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
    });
  });

  describe.skipIf(!postgresBin())('to PostgreSQL (sslmode=verify-full, client certificate)', () => {
    let postgres: RunningService;
    let port: string;
    let client: Pem;
    beforeAll(async () => {
      client = ca.issue('client', 'postgres');
      // Named localhost only, so reaching it as 127.0.0.1 is a name mismatch.
      const pgPem = ca.issue('pg-server', 'localhost', ['DNS:localhost']);
      postgres = await startPostgres({
        port: await freePort(),
        tls: { cert: pgPem.cert, key: pgPem.key, ca: ca.ca.cert },
      });
      port = new URL(postgres.url).port;
    });
    afterAll(() => postgres?.stop());

    /** Opens the server's database the way `firebackup server` does, from its environment. */
    const open = (host: string, env: Record<string, string>) => {
      const config = loadConfig({
        JWT_SECRET: SECRET,
        DATABASE_URL: `postgresql://postgres@${host}:${port}/postgres?sslmode=verify-full`,
        ...env,
      });
      return openDb({
        databaseUrl: config.postgres!.connectionString,
        ssl: config.postgres!.ssl,
      });
    };
    const files = { DATABASE_SSL_CERT: '', DATABASE_SSL_KEY: '', DATABASE_SSL_CA: '' };
    beforeAll(() => {
      files.DATABASE_SSL_CA = ca.ca.certFile;
      files.DATABASE_SSL_CERT = client.certFile;
      files.DATABASE_SSL_KEY = client.keyFile;
    });

    it('connects with the CA and the client certificate, and migrates over TLS', async () => {
      const db = await open('localhost', files);
      const [row] = await db.system((tx) =>
        tx.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'),
      );
      expect(row!.ssl).toBe(true);
      await db.close();
    });

    it('refuses a server whose certificate another CA signed, and one whose name does not match', async () => {
      const other = new TestCa('Someone else');
      const otherCa = path.join(other.dir, 'only-ca.pem');
      writeFileSync(otherCa, other.ca.cert);
      await expect(open('localhost', { ...files, DATABASE_SSL_CA: otherCa })).rejects.toThrow(
        /could not be opened.*(self-signed|unable to verify|certificate)/i,
      );
      // Reached by an address its certificate does not name (it names localhost only).
      await expect(open('127.0.0.1', files)).rejects.toThrow(
        /could not be opened.*(altnames|does not match)/i,
      );
      // verify-ca checks the chain only, so the same address passes (the control).
      const config = loadConfig({
        JWT_SECRET: SECRET,
        DATABASE_URL: `postgresql://postgres@127.0.0.1:${port}/postgres?sslmode=verify-ca`,
        ...files,
      });
      const db = await openDb({
        databaseUrl: config.postgres!.connectionString,
        ssl: config.postgres!.ssl,
      });
      await db.close();
    });

    it('without the client certificate the server refuses the connection', async () => {
      await expect(open('localhost', { DATABASE_SSL_CA: ca.ca.certFile })).rejects.toThrow(
        /could not be opened.*certificate/i,
      );
    });
  });
});
