import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInWithBrowser } from '../../src/engine/team/sign-in.js';
import { AppError } from '../../src/shared/errors.js';
import { freePort } from '../helpers/firestore-emulator.js';
import { startGoogleServer, type GoogleServer } from '../helpers/google-server.js';
import { browseAs, type BrowseResult } from '../helpers/oidc-provider.js';
import { startTestServer } from '../server/harness.js';

/**
 * The native client's side of sign-in (src/engine/team/sign-in.ts) against the real
 * server and a local OpenID provider: `openUrl` is a person at a browser (browseAs), who
 * ends on the page the client's loopback listener answers with.
 */
let google: GoogleServer;
beforeAll(async () => {
  google = await startGoogleServer();
});
afterAll(() => google?.close());

let people = 0;
const email = (name: string) => `${name}${++people}@acme.test`;

/** A browser that signs in as `who`; the page it ended on. */
function browser(who: string) {
  const seen: { last?: BrowseResult } = {};
  return {
    seen,
    openUrl: async (url: string) => {
      seen.last = await browseAs(url, who);
    },
  };
}

describe('signInWithBrowser', () => {
  it('signs in through the browser: token pair, user, no organisation yet', async () => {
    const who = email('ada');
    const { seen, openUrl } = browser(who);
    const credentials = await signInWithBrowser({ serverUrl: `${google.base}/`, openUrl });
    expect(seen.last?.status).toBe(200);
    expect(seen.last?.body).toMatch(/You can close this tab/);
    expect(seen.last?.url.host).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(credentials).toMatchObject({
      serverUrl: google.base,
      user: { email: who },
      organizationId: null,
    });
    expect(credentials.accessExpiresAt).toBeGreaterThan(Date.now() + 3_600_000);
    const me = await fetch(`${google.base}/api/v1/me`, {
      headers: { authorization: `Bearer ${credentials.accessToken}` },
    });
    expect(me.status).toBe(200);
  });

  it('picks the organisation when the member is in exactly one', async () => {
    const who = email('bea');
    const first = await signInWithBrowser({ serverUrl: google.base, ...browser(who) });
    const created = await fetch(`${google.base}/api/v1/organizations`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${first.accessToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ name: 'Bea Inc' }),
    });
    const { id } = (await created.json()) as { id: string };
    const again = await signInWithBrowser({ serverUrl: google.base, ...browser(who) });
    expect(again.organizationId).toBe(id);
    expect(again.sessionId).not.toBe(first.sessionId);
  });

  it('ignores an answer with another state, and still signs in with the right one', async () => {
    const who = email('cy');
    let forged: Response | undefined;
    const credentials = await signInWithBrowser({
      serverUrl: google.base,
      openUrl: async (url) => {
        const redirect = new URL(url).searchParams.get('redirect_uri')!;
        forged = await fetch(`${redirect}?code=fbc_forged&state=not-the-one`);
        await browseAs(url, who);
      },
    });
    expect(forged?.status).toBe(400);
    expect(await forged?.text()).toMatch(/not for the sign-in FireBackup is waiting for/);
    expect(credentials.user.email).toBe(who);
  });

  it('a refused sign-in ends with the server’s reason, on the page and in the error', async () => {
    const who = email('unverified');
    google.provider.unverified.add(who);
    const { seen, openUrl } = browser(who);
    const error = await signInWithBrowser({ serverUrl: google.base, openUrl }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('UNAUTHENTICATED');
    expect((error as AppError).message).toMatch(/email is not verified.*Sign in again/);
    expect(seen.last?.body).toMatch(/Sign-in failed/);
  });

  it('times out with a clear message when nobody signs in', async () => {
    const started = Date.now();
    const error = await signInWithBrowser({
      serverUrl: google.base,
      openUrl: async () => undefined,
      timeoutMs: 300,
    }).catch((e: unknown) => e);
    expect((error as AppError).code).toBe('DEADLINE_EXCEEDED');
    expect((error as AppError).message).toMatch(/did not finish within 1 s; run the sign-in again/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('stops when cancelled', async () => {
    const controller = new AbortController();
    const pending = signInWithBrowser({
      serverUrl: google.base,
      openUrl: async () => {
        setTimeout(() => controller.abort(), 50);
      },
      signal: controller.signal,
    });
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('fails at once, before any browser, when the server does not answer or offers no Google sign-in', async () => {
    const opened: string[] = [];
    const openUrl = async (url: string) => void opened.push(url);
    const nobody = `http://127.0.0.1:${await freePort()}`;
    await expect(signInWithBrowser({ serverUrl: nobody, openUrl })).rejects.toThrow(
      `The organisation server ${nobody} cannot be reached (ECONNREFUSED)`,
    );
    const plain = await startTestServer();
    try {
      const address = await plain.app.listen({ host: '127.0.0.1', port: 0 });
      await expect(signInWithBrowser({ serverUrl: address, openUrl })).rejects.toThrow(
        /does not offer Google sign-in yet: its administrator must set GOOGLE_CLIENT_ID/,
      );
    } finally {
      await plain.close();
    }
    expect(opened).toEqual([]);
  });

  it('refuses a server address that is not http(s)', async () => {
    await expect(
      signInWithBrowser({ serverUrl: 'ftp://example.com', openUrl: async () => undefined }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
