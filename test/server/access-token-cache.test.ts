import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/server/config.js';
import { Tokens, VERIFIED_KEPT } from '../../src/server/tokens.js';
import { SECRET } from './harness.js';

/**
 * Verified access tokens are remembered (ADR 0021), so a client's repeated calls do not
 * verify the same HMAC again. What must not change: a remembered token still expires at
 * its `exp`, a token differing in any byte is verified afresh, and the memory is bounded.
 */
describe('remembered access tokens', () => {
  const config = loadConfig({ JWT_SECRET: SECRET, JWT_EXPIRES_IN: '60s' });
  const clock = { now: Date.parse('2026-11-30T12:00:00.000Z') };
  const tokens = new Tokens(config, () => new Date(clock.now));

  it('a remembered token still expires at its exp, with the expired message', async () => {
    const token = await tokens.signAccess({ userId: 'usr_a', sessionId: 'ses_a' });
    expect(await tokens.verifyAccess(token)).toEqual({ userId: 'usr_a', sessionId: 'ses_a' });
    clock.now += 59_000;
    expect(await tokens.verifyAccess(token)).toEqual({ userId: 'usr_a', sessionId: 'ses_a' });
    clock.now += 1_000;
    await expect(tokens.verifyAccess(token)).rejects.toThrow(/has expired/);
    await expect(tokens.verifyAccess(token)).rejects.toThrow(/has expired/);
    clock.now -= 60_000;
  });

  it('a token altered in any part after the original was remembered is refused', async () => {
    const token = await tokens.signAccess({ userId: 'usr_b', sessionId: 'ses_b' });
    await tokens.verifyAccess(token);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as object;
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'usr_admin' })).toString(
      'base64url',
    );
    const flip = (s: string) => `${s.slice(0, -2)}${s.at(-2) === 'A' ? 'B' : 'A'}${s.at(-1)}`;
    for (const altered of [
      `${header}.${forged}.${signature}`,
      `${header}.${payload}.${flip(signature)}`,
      `${header}.${payload}.`,
      `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`,
    ])
      await expect(tokens.verifyAccess(altered), altered).rejects.toThrow(/not valid/);
    expect(await tokens.verifyAccess(token)).toEqual({ userId: 'usr_b', sessionId: 'ses_b' });
  });

  it('remembers at most VERIFIED_KEPT tokens', async () => {
    const many = new Tokens(config, () => new Date(clock.now));
    const first = await many.signAccess({ userId: 'usr_0', sessionId: 'ses_0' });
    await many.verifyAccess(first);
    for (let i = 1; i <= VERIFIED_KEPT; i++)
      await many.verifyAccess(await many.signAccess({ userId: `usr_${i}`, sessionId: 'ses' }));
    const kept = (many as unknown as { verified: Map<string, unknown> }).verified;
    expect(kept.size).toBe(VERIFIED_KEPT);
    expect(kept.has(first)).toBe(false);
    // Forgotten is not refused: it is verified again.
    expect(await many.verifyAccess(first)).toEqual({ userId: 'usr_0', sessionId: 'ses_0' });
  });
});
