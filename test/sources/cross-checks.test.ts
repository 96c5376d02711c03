/**
 * Cross-checks on the real emulators, through the CLI: a backup of Firestore, Auth and
 * Storage reports documents keyed by the uid of no user and Storage references to objects
 * that do not exist (reported, nothing changed), and `inspect` lists them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { openAuth } from '../../src/engine/sources/auth/connection.js';
import { openFirestore } from '../../src/engine/sources/firestore/connection.js';
import { openStorageSource } from '../../src/engine/sources/storage/connection.js';
import { useAuthEmulator } from '../helpers/auth-emulator-hooks.js';
import { testProject, writeRaw } from '../helpers/firestore-seed.js';
import { runCli } from '../helpers/run-cli.js';

const firestoreHost = inject('firestoreEmulatorHost');
const gcsHost = inject('gcsEmulatorHost');
const auth = useAuthEmulator();

const uid = (c: string): string => c.repeat(28);

describe.skipIf(!firestoreHost || !gcsHost)('cross-checks between sources', () => {
  it('reports uid-keyed documents without a user and references to missing objects', async () => {
    const project = testProject('xcheck');
    const bucket = `xcheck-${randomBytes(4).toString('hex')}`;
    const s = (stringValue: string): { stringValue: string } => ({ stringValue });
    const conn = await openFirestore({ projectId: project, emulatorHost: firestoreHost });
    try {
      await writeRaw(conn, [
        { path: 'users/alice', fields: { name: s('Alice') } },
        { path: 'users/ghost', fields: { name: s('Nobody') } },
        { path: `chats/${uid('a')}`, fields: {} },
        { path: `chats/${uid('b')}`, fields: {} },
        { path: 'posts/p1', fields: { imagePath: s('img/ok.png') } },
        {
          path: 'posts/p2',
          fields: {
            photoURL: s(
              `https://firebasestorage.googleapis.com/v0/b/${bucket}/o/img%2Fmissing.png?alt=media&token=t`,
            ),
          },
        },
        { path: 'posts/p3', fields: { cover: s(`gs://${bucket}/img/ok.png`) } },
        {
          path: 'posts/p4',
          fields: { refs: { arrayValue: { values: [s(`gs://${bucket}/img/gone.png`)] } } },
        },
      ]);
    } finally {
      await conn.close();
    }
    await openAuth({ projectId: project, emulatorHost: auth.host }).request(
      'POST',
      `/v1/projects/${project}/accounts:batchCreate`,
      { users: [{ localId: 'alice' }, { localId: uid('a') }] },
    );
    await openStorageSource({ emulatorHost: gcsHost })
      .bucket(bucket)
      .file('img/ok.png')
      .save(Buffer.from('png'), { resumable: false });

    const dir = await mkdtemp(path.join(tmpdir(), 'fb-xcheck-'));
    const env = {
      ENCRYPTION_KEY: MasterKey.generate().revealHex(),
      FIRESTORE_EMULATOR_HOST: firestoreHost,
    };
    const run = await runCli(
      [
        ...['backup', '--project', project, '--to', dir, '--sources', 'firestore,auth,storage'],
        ...['--auth-emulator', auth.host, '--storage-emulator', gcsHost, '--buckets', bucket],
        '--json',
      ],
      env,
    );
    expect(run.code).toBe(0);
    const result = run.json<{ id: string; crossChecks: unknown }>();
    expect(result.crossChecks).toEqual({
      uidsWithoutUser: {
        checked: 4,
        missing: 2,
        notChecked: 0,
        // In archive order, which is not the order written.
        examples: expect.arrayContaining([
          { document: 'chats/bbbbbbbbbbbbbbbbbbbbbbbbbbbb', value: uid('b') },
          { document: 'users/ghost', value: 'ghost' },
        ]),
      },
      missingStorageObjects: {
        checked: 4,
        missing: 2,
        notChecked: 0,
        examples: expect.arrayContaining([
          {
            document: 'posts/p2',
            field: 'photoURL',
            value: expect.stringContaining('img%2Fmissing.png'),
          },
          { document: 'posts/p4', field: 'refs[0]', value: `gs://${bucket}/img/gone.png` },
        ]),
      },
    });
    expect(run.stderr).toMatch(
      /Cross-checks \(nothing was changed\): 2 documents keyed by a uid that no Auth user has; 2 Storage references in documents to objects not found\. The list: firebackup inspect bkp_\S+ --from /,
    );

    const inspect = await runCli(['inspect', result.id, '--from', dir], env);
    expect(inspect.code).toBe(0);
    expect(inspect.stdout).toContain('Cross-checks (reported only):');
    expect(inspect.stdout).toContain('    users/ghost');
    expect(inspect.stdout).toContain(`    posts/p4 refs[0]: gs://${bucket}/img/gone.png`);
  });
});
