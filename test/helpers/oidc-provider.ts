import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import Provider from 'oidc-provider';

/**
 * A real OpenID provider (`oidc-provider`) in Google's place, in-process on a random
 * loopback port, with one confidential client (client_secret_post, PKCE required) and a
 * user directory of our own: the login name is the account id and its email, verified
 * unless `unverified` lists it.
 *
 * `tamper` rewrites the claims of the id tokens the token endpoint hands out and signs
 * them again with the provider's own key (or another key under the same key id), so the
 * tests can play a provider, or a network, that lies.
 */
export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  unverified: Set<string>;
  tamper: ((claims: JWTPayload) => JWTPayload) | null;
  /** Sign tampered tokens with a key the provider does not publish. */
  tamperWithForeignKey: boolean;
  /** Registers the relying party's callback(s) and starts answering. */
  register(redirectUris: string[]): void;
  close(): Promise<void>;
}

export async function startOidcProvider(): Promise<TestProvider> {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const http = createServer((req, res) => {
    if (handler) handler(req, res);
    else res.writeHead(503).end('not ready');
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const kid = 'test-key';
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const foreign = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
  const provider: TestProvider = {
    issuer,
    clientId: 'firebackup-test-client',
    clientSecret: randomBytes(32).toString('hex'),
    unverified: new Set(),
    tamper: null,
    tamperWithForeignKey: false,
    register(redirectUris) {
      const oidc = new Provider(issuer, {
        clients: [
          {
            client_id: provider.clientId,
            client_secret: provider.clientSecret,
            redirect_uris: redirectUris,
            token_endpoint_auth_method: 'client_secret_post',
            grant_types: ['authorization_code'],
            response_types: ['code'],
          },
        ],
        jwks: { keys: [jwk] },
        findAccount: async (_ctx, sub) => ({
          accountId: sub,
          claims: async () => ({
            sub,
            email: sub,
            email_verified: !provider.unverified.has(sub),
            name: sub.split('@')[0],
          }),
        }),
        claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
        // Google puts the email claims in the id token itself; so does this provider.
        conformIdTokenClaims: false,
        features: { devInteractions: { enabled: true } },
        cookies: { keys: [randomBytes(16).toString('hex')] },
        pkce: { required: () => true },
      });
      oidc.use(async (ctx, next) => {
        await next();
        const tamper = provider.tamper;
        if (tamper === null || ctx.path !== '/token' || ctx.method !== 'POST') return;
        const body = ctx.body as { id_token?: string };
        if (typeof body?.id_token !== 'string') return;
        const key = provider.tamperWithForeignKey ? foreign.privateKey : privateKey;
        body.id_token = await new SignJWT(tamper(decodeJwt(body.id_token)))
          .setProtectedHeader({ alg: 'RS256', kid })
          .sign(key);
      });
      handler = oidc.callback();
    },
    close: () =>
      new Promise((resolve) => {
        http.close(() => resolve());
        // Browsers' and the server's keep-alive connections would hold the close open.
        http.closeAllConnections();
      }),
  };
  return provider;
}

/** One browser's cookies, by origin (paths ignored: the provider's are all distinct names). */
export class CookieJar {
  private readonly byOrigin = new Map<string, Map<string, string>>();

  header(url: URL): string {
    const jar = this.byOrigin.get(url.origin);
    return jar ? [...jar].map(([k, v]) => `${k}=${v}`).join('; ') : '';
  }

  store(url: URL, response: Response): void {
    const jar = this.byOrigin.get(url.origin) ?? new Map<string, string>();
    this.byOrigin.set(url.origin, jar);
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
  }
}

export interface BrowseResult {
  /** Where the browser stopped: the page it was sent to last. */
  url: URL;
  /** The answer of that page; undefined when `stopAt` matched before it was fetched. */
  status?: number;
  body?: string;
}

/**
 * A person at a browser, as a program: follows redirects, and on the provider's sign-in
 * and consent pages signs in as `login` and consents. Stops at the first URL `stopAt`
 * accepts (without loading it), or at the first page that is not a redirect.
 */
export async function browseAs(
  start: string,
  login: string,
  stopAt: (url: URL) => boolean = () => false,
  /** The browser's cookies (a fresh jar by default), for tests that go on in that browser. */
  jar: CookieJar = new CookieJar(),
): Promise<BrowseResult> {
  let url = new URL(start);
  let form: URLSearchParams | undefined;
  for (let hop = 0; hop < 30; hop++) {
    if (stopAt(url)) return { url };
    const response = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        cookie: jar.header(url),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { body: form.toString() } : {}),
    });
    jar.store(url, response);
    form = undefined;
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location !== null) {
      await response.body?.cancel();
      url = new URL(location, url);
      continue;
    }
    const body = await response.text();
    const prompt = /name="prompt" value="(login|consent)"/.exec(body)?.[1];
    const action = /<form[^>]*action="([^"]+)"/.exec(body)?.[1];
    if (response.status !== 200 || prompt === undefined || action === undefined)
      return { url, status: response.status, body };
    form = new URLSearchParams({ prompt });
    if (prompt === 'login') {
      form.set('login', login);
      form.set('password', 'any');
    }
    url = new URL(action.replaceAll('&amp;', '&'), url);
  }
  throw new Error(`the browser was redirected more than 30 times (last: ${url.href})`);
}
