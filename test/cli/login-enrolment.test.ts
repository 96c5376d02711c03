/**
 * `firebackup login` on a server with FORCE_MFA, as a child process, for a member with no
 * authenticator yet: at a terminal (a real pseudo-terminal from util-linux `script`) the
 * question shows the otpauth:// address, the key and the address as a QR code, and the
 * code typed there finishes the sign-in; into a pipe the same question is text only.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCliSandbox } from '../helpers/cli-sandbox.js';
import { startGoogleServer, type GoogleServer } from '../helpers/google-server.js';
import { browseAs } from '../helpers/oidc-provider.js';
import { spawnCli, waitFor } from '../helpers/spawn-cli.js';

const KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
/** The sign-in address `--no-open` prints (line ends are \r\n at a terminal). */
const ADDRESS = /^ {2}(http:\/\/127\.0\.0\.1:\d+\/api\/v1\/auth\/google\/start\?[^\s]+)/m;
const QR_BLOCKS = /[▀▄█]{7}/;
const SCRIPT = '/usr/bin/script';

let google: GoogleServer;
let sandbox: ReturnType<typeof makeCliSandbox>;
beforeAll(async () => {
  google = await startGoogleServer(undefined, {}, { FORCE_MFA: 'true' });
  sandbox = makeCliSandbox('fb-login-mfa-', KEY);
});
afterAll(async () => {
  await google?.close();
  if (sandbox) await rm(sandbox.dir, { recursive: true, force: true });
});

const login = ['login', '--server', () => google.base, '--no-open'];
const args = () => login.map((a) => (typeof a === 'function' ? a() : a));

describe('firebackup login: setting up the authenticator', () => {
  it.skipIf(!existsSync(SCRIPT))(
    'at a terminal: the address, the key and a QR code of the address; the code typed finishes the sign-in',
    async () => {
      const command = [process.execPath, '--import', 'tsx', 'test/helpers/cli-entry.ts', ...args()]
        .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
        .join(' ');
      // script gives the CLI a pseudo-terminal for stdin, stdout and stderr alike.
      const child = spawn(SCRIPT, ['-qfec', command, '/dev/null'], {
        env: { ...process.env, ...sandbox.env, TERM: 'xterm' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      try {
        await waitFor(() => ADDRESS.test(out), 30_000, 'the sign-in address');
        await browseAs(ADDRESS.exec(out)![1]!, 'tty@acme.test');
        await waitFor(() => out.includes('Then enter the 6-digit code'), 30_000, 'the question');
        const key = /Or type the key ([A-Z2-7]+), or scan this QR code/.exec(out)?.[1];
        expect(key, out).toBeDefined();
        expect(out).toMatch(new RegExp(`otpauth://totp/\\S*secret=${key}`));
        expect(out.indexOf(key!)).toBeLessThan(out.search(QR_BLOCKS));
        expect(out).toMatch(QR_BLOCKS);
        child.stdin.write(`${new TOTP({ secret: Secret.fromBase32(key!) }).generate()}\r`);
        await waitFor(() => /Two-step sign-in is on/.test(out), 30_000, 'the recovery codes');
        expect(await exited, out).toBe(0);
        expect(out).toMatch(/Signed in to .* as tty@acme\.test/);
      } finally {
        child.kill();
      }
    },
    90_000,
  );

  it('into a pipe: the same question as text only, no QR code', async () => {
    const child = spawnCli(args(), sandbox.env);
    await waitFor(() => ADDRESS.test(child.stderr()), 30_000, 'the sign-in address');
    await browseAs(ADDRESS.exec(child.stderr())![1]!, 'pipe@acme.test');
    const { code } = await child.exited; // stdin is closed: no code comes
    const err = child.stderr();
    expect(err).toMatch(/Add this account to your authenticator app/);
    expect(err).toMatch(/\(or type the key [A-Z2-7]+\)/);
    expect(err).not.toMatch(/[▀▄█]/);
    expect(err).toMatch(/No code was given/);
    expect(code).not.toBe(0);
  }, 60_000);
});
