import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInWithBrowser, type SecondFactorPrompt } from '../../src/engine/team/sign-in.js';
import { startGoogleServer, type GoogleServer } from '../helpers/google-server.js';
import { browseAs } from '../helpers/oidc-provider.js';

/**
 * Signing in from the CLI or the app when the server demands a second factor
 * (FORCE_MFA=true): the session can call nothing but the MFA routes until it is given,
 * so the client asks for it before keeping the sign-in.
 */
let google: GoogleServer;
beforeAll(async () => {
  google = await startGoogleServer(undefined, {}, { FORCE_MFA: 'true' });
});
afterAll(() => google?.close());

const openAs = (who: string) => async (url: string) => {
  await browseAs(url, who);
};

async function me(accessToken: string): Promise<number> {
  const res = await fetch(`${google.base}/api/v1/me`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  return res.status;
}

describe('signInWithBrowser with a second factor', () => {
  it('without a way to ask for the code, fails with what to do and keeps nothing', async () => {
    await expect(
      signInWithBrowser({ serverUrl: google.base, openUrl: openAs('nomfa@acme.test') }),
    ).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: expect.stringMatching(/two-step sign-in.*firebackup login/),
    });
  });

  it('enrols an authenticator on first sign-in, then takes a recovery code the next time', async () => {
    const who = 'mfa@acme.test';
    const asked: string[] = [];
    let recovery: string[] = [];
    const enrol: SecondFactorPrompt = {
      askCode: async (request) => {
        asked.push(request.demand);
        if (request.demand !== 'enrol') throw new Error('expected an enrolment');
        expect(request.otpauthUri).toMatch(/^otpauth:\/\/totp\//);
        return new TOTP({ secret: Secret.fromBase32(request.secret) }).generate();
      },
      showRecoveryCodes: (codes) => {
        recovery = codes;
      },
    };
    const first = await signInWithBrowser({
      serverUrl: google.base,
      openUrl: openAs(who),
      secondFactor: enrol,
    });
    expect(asked).toEqual(['enrol']);
    expect(recovery.length).toBeGreaterThanOrEqual(5);
    expect(first.user.email).toBe(who);
    expect(await me(first.accessToken)).toBe(200);

    // The next sign-in owes a code; a recovery code is accepted (once).
    const second = await signInWithBrowser({
      serverUrl: google.base,
      openUrl: openAs(who),
      secondFactor: {
        askCode: async (request) => {
          asked.push(request.demand);
          return ` ${recovery[0]!} `;
        },
        showRecoveryCodes: () => {
          throw new Error('no enrolment expected');
        },
      },
    });
    expect(asked).toEqual(['enrol', 'code']);
    expect(await me(second.accessToken)).toBe(200);

    // The same recovery code again is refused, and that sign-in is not handed out.
    await expect(
      signInWithBrowser({
        serverUrl: google.base,
        openUrl: openAs(who),
        secondFactor: { askCode: async () => recovery[0]!, showRecoveryCodes: () => undefined },
      }),
    ).rejects.toBeInstanceOf(Error);
  });

  it('a wrong code is asked again with the reason (the CLI and the app share these steps)', async () => {
    const failures: (string | undefined)[] = [];
    const credentials = await signInWithBrowser({
      serverUrl: google.base,
      openUrl: openAs('retry@acme.test'),
      secondFactor: {
        askCode: async (request, failure) => {
          failures.push(failure?.message);
          if (request.demand !== 'enrol') throw new Error('expected an enrolment');
          const right = new TOTP({ secret: Secret.fromBase32(request.secret) }).generate();
          return failure === undefined ? (right === '000000' ? '000001' : '000000') : right;
        },
        showRecoveryCodes: () => undefined,
      },
    });
    expect(failures).toEqual([undefined, expect.stringMatching(/^That code is not right/)]);
    expect(await me(credentials.accessToken)).toBe(200);
  });
});
