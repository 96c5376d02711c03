import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadKeyring } from './keyring.js';
import { MasterKey, keyIdOf } from './master-key.js';

const GOOD = '3f9a0c71e25bd4868f1e7a2c90b35d6e41f8c27a093be5d16f4a82c7e019b3d5';

describe('master keys', () => {
  it('accepts 64 hex characters, in either case and with surrounding whitespace', () => {
    const key = MasterKey.fromHex(`  ${GOOD.toUpperCase()}\n`, 'test');
    expect(key.revealHex()).toBe(GOOD);
    expect(key.id).toMatch(/^k[0-9a-f]{16}$/);
    expect(key.id).toBe(keyIdOf(Buffer.from(GOOD, 'hex')));
  });

  it.each([
    ['too short', 'ab'.repeat(31), /has 62 hex characters/],
    ['too long', 'ab'.repeat(33), /has 66 hex characters/],
    ['not hex', 'zz'.repeat(32), /characters other than 0-9 and a-f/],
    ['all zeros', '0'.repeat(64), /only 1 distinct byte value among/],
    ['one repeated byte', 'ff'.repeat(32), /only 1 distinct byte value among/],
    ['deadbeef repeated', 'deadbeef'.repeat(8), /only 4 distinct byte values.*pattern/],
    ['00…01', '0'.repeat(62) + '01', /only 2 distinct byte values/],
    ['two halves', 'a'.repeat(32) + 'b'.repeat(32), /only 2 distinct/],
    ['a period of 15', '000102030405060708090a0b0c0d0e'.repeat(3).slice(0, 64), /only 15 distinct/],
  ])('refuses a key that is %s, saying how to make one', (_what, hex, pattern) => {
    expect(() => MasterKey.fromHex(hex, 'ENCRYPTION_KEY')).toThrow(pattern);
    expect(() => MasterKey.fromHex(hex, 'ENCRYPTION_KEY')).toThrow(/firebackup keys generate/);
  });

  it('never prints its bytes', () => {
    const key = MasterKey.fromHex(GOOD, 'test');
    for (const shown of [
      String(key),
      JSON.stringify({ key }),
      inspect(key),
      inspect({ nested: { key } }),
    ]) {
      expect(shown).not.toContain(GOOD);
      expect(shown).toContain(key.id);
    }
  });

  it('generates distinct valid keys', () => {
    const a = MasterKey.generate();
    const b = MasterKey.generate();
    expect(a.revealHex()).toMatch(/^[0-9a-f]{64}$/);
    expect(a.id).not.toBe(b.id);
  });
});

describe('keyring', () => {
  it('loads ENCRYPTION_KEY and ENCRYPTION_OLD_KEYS', async () => {
    const old1 = MasterKey.generate().revealHex();
    const old2 = MasterKey.generate().revealHex();
    const ring = await loadKeyring({
      env: { ENCRYPTION_KEY: GOOD, ENCRYPTION_OLD_KEYS: ` ${old1}, ${old2} ,` },
    });
    expect(ring.current().revealHex()).toBe(GOOD);
    expect(ring.ids).toHaveLength(3);
    expect(ring.find(MasterKey.fromHex(old2, 'x').id)?.revealHex()).toBe(old2);
  });

  it('prefers --key-file over ENCRYPTION_KEY', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-key-'));
    const file = path.join(dir, 'key.hex');
    const other = MasterKey.generate().revealHex();
    await writeFile(file, `${other}\n`, { mode: 0o600 });
    const ring = await loadKeyring({ env: { ENCRYPTION_KEY: GOOD }, keyFile: file });
    expect(ring.current().revealHex()).toBe(other);
  });

  it('names the entry of ENCRYPTION_OLD_KEYS that is malformed', async () => {
    await expect(loadKeyring({ env: { ENCRYPTION_OLD_KEYS: `${GOOD},nothex` } })).rejects.toThrow(
      /ENCRYPTION_OLD_KEYS \(entry 2\)/,
    );
  });

  it('says how to set a key when none is given', async () => {
    const ring = await loadKeyring({ env: {} });
    expect(() => ring.current()).toThrow(/ENCRYPTION_KEY.*--key-file.*keys generate/);
  });

  it('names the missing key id and where to add it', async () => {
    const ring = await loadKeyring({ env: { ENCRYPTION_KEY: GOOD } });
    expect(() => ring.require('k0123456789abcdef')).toThrow(
      /k0123456789abcdef.*ENCRYPTION_OLD_KEYS/,
    );
  });

  it('refuses a key file others can read, as ssh does, and says how to fix it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-key-'));
    const file = path.join(dir, 'key.hex');
    await writeFile(file, `${MasterKey.generate().revealHex()}\n`, { mode: 0o600 });
    for (const mode of [0o644, 0o640, 0o604, 0o660]) {
      await chmod(file, mode);
      await expect(loadKeyring({ keyFile: file })).rejects.toMatchObject({
        code: 'KEY_INVALID',
        message: expect.stringContaining(
          `Permissions 0${mode.toString(8)} for '${file}' are too open`,
        ),
      });
    }
    await chmod(file, 0o400);
    expect((await loadKeyring({ keyFile: file })).current().id).toMatch(/^k/);
  });

  it('accepts every random key (none has fewer than 16 distinct bytes in practice)', () => {
    for (let i = 0; i < 2000; i++)
      expect(() => MasterKey.fromHex(MasterKey.generate().revealHex(), 't')).not.toThrow();
  });

  it('reports a missing key file clearly', async () => {
    await expect(loadKeyring({ keyFile: '/nonexistent/key.hex' })).rejects.toMatchObject({
      code: 'KEY_NOT_FOUND',
    });
  });
});
