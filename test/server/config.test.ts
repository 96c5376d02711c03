import { describe, expect, it } from 'vitest';
import { loadConfig, parseDuration } from '../../src/server/config.js';

const SECRET = 'a'.repeat(32);

describe('server configuration', () => {
  it('refuses to start without JWT_SECRET and says how to make one', () => {
    expect(() => loadConfig({})).toThrow(/JWT_SECRET is not set.*openssl rand -hex 32/s);
  });

  it('refuses a JWT_SECRET shorter than 32 bytes', () => {
    expect(() => loadConfig({ JWT_SECRET: 'a'.repeat(31) })).toThrow(
      /JWT_SECRET is shorter than 32 bytes/,
    );
  });

  it("uses the guide's defaults", () => {
    const config = loadConfig({ JWT_SECRET: SECRET });
    expect(config.JWT_EXPIRES_IN).toBe(24 * 3_600_000);
    expect(config.JWT_REFRESH_EXPIRES_IN).toBe(7 * 86_400_000);
    expect(config.RATE_LIMIT_ENABLED).toBe(true);
    expect(config.RATE_LIMIT_WINDOW).toBe(60_000);
    expect(config.RATE_LIMIT_MAX).toBe(100);
    expect(config.AUTH_RATE_LIMIT_MAX).toBe(5);
    expect(config.AUDIT_LOG_RETENTION_DAYS).toBe(365);
    expect(config.SESSION_TIMEOUT).toBeUndefined();
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('reads the values the guide shows', () => {
    const config = loadConfig({
      JWT_SECRET: SECRET,
      JWT_EXPIRES_IN: '15m',
      RATE_LIMIT_ENABLED: 'false',
      SESSION_TIMEOUT: '1800000',
      DATABASE_URL: 'postgresql://u:p@db:5432/fb?sslmode=verify-full',
    });
    expect(config.JWT_EXPIRES_IN).toBe(15 * 60_000);
    expect(config.RATE_LIMIT_ENABLED).toBe(false);
    expect(config.SESSION_TIMEOUT).toBe(1_800_000);
  });

  it("uses the guide's session settings by default and refuses SameSite=None without Secure", () => {
    const config = loadConfig({ JWT_SECRET: SECRET });
    expect(config).toMatchObject({
      SESSION_SECURE: true,
      SESSION_HTTP_ONLY: true,
      SESSION_SAME_SITE: 'strict',
      SESSION_MAX_AGE: 86_400_000,
      SESSION_COOKIE_NAME: 'firebackup_session',
      FORCE_MFA: false,
      INVITATION_EXPIRES_IN: 7 * 86_400_000,
    });
    expect(loadConfig({ JWT_SECRET: SECRET, FORCE_MFA: 'true' }).FORCE_MFA).toBe(true);
    expect(() =>
      loadConfig({ JWT_SECRET: SECRET, SESSION_SAME_SITE: 'none', SESSION_SECURE: 'false' }),
    ).toThrow(/SESSION_SAME_SITE=none needs SESSION_SECURE=true/);
    expect(() => loadConfig({ JWT_SECRET: SECRET, SESSION_SAME_SITE: 'loose' })).toThrow(
      /SESSION_SAME_SITE must be strict, lax or none/,
    );
    expect(() => loadConfig({ JWT_SECRET: SECRET, MFA_ENCRYPTION_KEY: 'short' })).toThrow(
      /MFA_ENCRYPTION_KEY is shorter than 32 bytes/,
    );
  });

  it('names every bad variable at once', () => {
    try {
      loadConfig({
        JWT_SECRET: SECRET,
        JWT_EXPIRES_IN: 'soon',
        RATE_LIMIT_MAX: '-3',
        DATABASE_URL: 'mysql://x',
        REDIS_URL: 'http://cache:6379',
      });
      expect.fail('should throw');
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toMatch(/JWT_EXPIRES_IN must be a duration such as 24h \(got "soon"\)/);
      expect(message).toMatch(/RATE_LIMIT_MAX must be/);
      expect(message).toMatch(/DATABASE_URL must be a postgresql:\/\/ URL/);
      expect(message).toMatch(/REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/);
    }
  });

  it('parses durations', () => {
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('90')).toBe(90_000);
    expect(parseDuration('1 week')).toBeUndefined();
  });
});
