import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/server/config.js';
import { runCli } from '../helpers/run-cli.js';

const base = {
  JWT_SECRET: 'k'.repeat(64),
  GOOGLE_CLIENT_ID: 'client.apps.googleusercontent.com',
  GOOGLE_CLIENT_SECRET: 'secret',
  GOOGLE_CALLBACK_URL: 'https://backup.example.com/api/v1/auth/google/callback',
};

describe('Google sign-in configuration', () => {
  it('defaults: Google as the issuer, openid email profile', () => {
    expect(loadConfig(base).google).toEqual({
      clientId: base.GOOGLE_CLIENT_ID,
      clientSecret: 'secret',
      callbackUrl: base.GOOGLE_CALLBACK_URL,
      scopes: ['openid', 'email', 'profile'],
      issuer: 'https://accounts.google.com',
    });
  });

  it('no Google variables: no Google sign-in', () => {
    expect(loadConfig({ JWT_SECRET: base.JWT_SECRET }).google).toBeUndefined();
  });

  it("reads the guide's comma-separated OAUTH_SCOPES, adding openid", () => {
    const config = loadConfig({
      ...base,
      OAUTH_SCOPES: 'email,profile,https://www.googleapis.com/auth/firebase',
    });
    expect(config.google?.scopes).toEqual([
      'openid',
      'email',
      'profile',
      'https://www.googleapis.com/auth/firebase',
    ]);
  });

  it.each([
    'http://127.0.0.1:4000/api/v1/auth/google/callback',
    'http://localhost:4000/api/v1/auth/google/callback',
    'http://[::1]:4000/api/v1/auth/google/callback',
    'https://example.com/firebackup/api/v1/auth/google/callback',
  ])('accepts the callback %s', (url) => {
    expect(loadConfig({ ...base, GOOGLE_CALLBACK_URL: url }).google?.callbackUrl).toBe(url);
  });

  it.each([
    ['http://backup.example.com/api/v1/auth/google/callback', /must be an https:\/\/ URL/],
    ['http://10.0.0.5:4000/api/v1/auth/google/callback', /must be an https:\/\/ URL/],
    ['https://backup.example.com/callback', /must end with \/api\/v1\/auth\/google\/callback/],
    ['not a url', /is not a URL/],
  ])('refuses to start with GOOGLE_CALLBACK_URL=%s', (url, message) => {
    expect(() => loadConfig({ ...base, GOOGLE_CALLBACK_URL: url })).toThrow(message);
  });

  it('refuses a partial configuration, naming what is missing', () => {
    expect(() => loadConfig({ ...base, GOOGLE_CLIENT_SECRET: '' })).toThrow(
      /GOOGLE_CLIENT_SECRET is not set: Google sign-in needs/,
    );
  });

  it('refuses OAUTH_SCOPES without email, and a plain-HTTP remote issuer', () => {
    expect(() => loadConfig({ ...base, OAUTH_SCOPES: 'openid profile' })).toThrow(
      /OAUTH_SCOPES must include email/,
    );
    expect(() => loadConfig({ ...base, OAUTH_ISSUER: 'http://idp.example.com' })).toThrow(
      /OAUTH_ISSUER must be an https:\/\/ URL/,
    );
  });

  it('`firebackup server` refuses to start on a plain-HTTP callback, saying what to set (exit 2)', async () => {
    const run = await runCli(['server'], {
      ...base,
      GOOGLE_CALLBACK_URL: 'http://backup.example.com/api/v1/auth/google/callback',
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/GOOGLE_CALLBACK_URL must be an https:\/\/ URL/);
  });
});
