import type { AppOptions } from '../../src/server/app.js';
import type { Db } from '../../src/server/db/db.js';
import { startTestServer, type TestServer } from '../server/harness.js';
import { freePort } from './firestore-emulator.js';
import { startOidcProvider, type TestProvider } from './oidc-provider.js';

export interface GoogleServer {
  /** The organisation server's address (http://127.0.0.1:<port>). */
  base: string;
  server: TestServer;
  provider: TestProvider;
  close(): Promise<void>;
}

/**
 * The organisation server listening on a loopback port with Google sign-in pointed at a
 * local OpenID provider (test/helpers/oidc-provider.ts), on `db` when given (the caller
 * closes it), else on a fresh in-memory PGlite; `extra` as startTestServer takes it (a clock),
 * `env` more server settings (FORCE_MFA…).
 */
export async function startGoogleServer(
  db?: Db,
  extra: Partial<AppOptions> = {},
  env: Record<string, string> = {},
): Promise<GoogleServer> {
  const provider = await startOidcProvider();
  // The callback URL is configuration, so the port is chosen before the server exists.
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const callback = `${base}/api/v1/auth/google/callback`;
  const server = await startTestServer(
    {
      GOOGLE_CLIENT_ID: provider.clientId,
      GOOGLE_CLIENT_SECRET: provider.clientSecret,
      GOOGLE_CALLBACK_URL: callback,
      OAUTH_ISSUER: provider.issuer,
      ...env,
    },
    extra,
    db,
  );
  provider.register([callback]);
  await server.app.listen({ host: '127.0.0.1', port });
  return {
    base,
    server,
    provider,
    close: async () => {
      await server.close();
      await provider.close();
    },
  };
}
