/** The offline layout of Auth and Storage records (restore --to-dir), on a real folder. */
import { mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ScannedRecord } from '../../src/engine/operations/source-records.js';
import { OtherSourcesDirWriter } from '../../src/engine/operations/to-dir-sources.js';

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const config = (tenantId?: string): ScannedRecord => {
  const record = {
    source: 'emulator' as const,
    project: 'p',
    hashConfig: { algorithm: 'FIREBASE_AUTH_EMULATOR' },
    ...(tenantId ? { tenantId } : {}),
  };
  return { kind: 'auth-config', record, json: json(record) };
};
const user = (localId: string): ScannedRecord => ({
  kind: 'auth-user',
  record: { localId },
  json: json({ localId }),
});
const object = (name: string, content: string): ScannedRecord[] => {
  const record = { bucket: 'b.appspot.com', name, size: String(Buffer.byteLength(content)) };
  return [
    { kind: 'storage-object', record, json: json(record) },
    ...(content ? [{ kind: 'storage-content' as const, bytes: Buffer.from(content) }] : []),
  ];
};

describe('restore --to-dir of Auth and Storage', () => {
  it('writes each Auth scope beside its hash configuration, and every object name to its own file', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'fb-todir-'));
    const writer = new OtherSourcesDirWriter(root);
    const records: ScannedRecord[] = [
      config(),
      user('u1'),
      user('u2'),
      config('acme-1'),
      user('t1'),
      ...object('a', 'abc'),
      ...object('a/b', ''),
      ...object('A', 'upper'),
      ...object('..', 'dots'),
    ];
    for (const r of records) await writer.write(r as Exclude<ScannedRecord, { kind: 'firestore' }>);
    const summary = await writer.close();
    expect(summary.auth).toEqual({
      users: 3,
      files: [
        'auth/hash-config.json',
        'auth/users.ndjson',
        'auth/tenants/acme-1/hash-config.json',
        'auth/tenants/acme-1/users.ndjson',
      ],
    });
    expect(await readFile(path.join(root, 'auth/users.ndjson'), 'utf8')).toBe(
      '{"localId":"u1"}\n{"localId":"u2"}\n',
    );
    expect(await readFile(path.join(root, 'auth/tenants/acme-1/users.ndjson'), 'utf8')).toBe(
      '{"localId":"t1"}\n',
    );
    const objects = path.join(root, 'storage/b.appspot.com/objects');
    const files = (await readdir(objects)).sort();
    // "a" and "a/b" both exist; "A" differs from "a" but for case, so it carries a hash.
    expect(files).toHaveLength(4);
    expect(files).toContain('a');
    expect(files).toContain('a%2Fb');
    expect(files).toContain('%2E.');
    expect(files.find((f) => f.startsWith('A~'))).toBeDefined();
    expect(await readFile(path.join(objects, 'a'), 'utf8')).toBe('abc');
    const upper = files.find((f) => f.startsWith('A~'))!;
    const sidecar = JSON.parse(
      await readFile(path.join(root, 'storage/b.appspot.com/metadata', `${upper}.json`), 'utf8'),
    ) as { name: string; file: string };
    expect(sidecar).toMatchObject({ name: 'A', file: `objects/${upper}` });
    expect((await stat(path.join(objects, 'a'))).mode & 0o777).toBe(0o600);
  });

  it('refuses an archive that ends inside an object', async () => {
    const writer = new OtherSourcesDirWriter(await mkdtemp(path.join(tmpdir(), 'fb-todir-')));
    await writer.write(object('big', 'abcdef')[0] as Exclude<ScannedRecord, { kind: 'firestore' }>);
    await expect(writer.close()).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT' });
    writer.destroy();
  });
});
