import { describe, expect, it } from 'vitest';
import type { FirestoreDocumentRecord, FirestoreValue } from '../../shared/firestore.js';
import { CrossChecks, storageReference } from './cross-checks.js';

const T = '2024-01-01T00:00:00.000000000Z';
const doc = (
  path: string,
  fields: Record<string, FirestoreValue> = {},
): FirestoreDocumentRecord => ({
  path,
  createTime: T,
  updateTime: T,
  fields,
});
const s = (stringValue: string): FirestoreValue => ({ stringValue });
const UID = 'Ab3dEf6hIj9lMn2pQr5tUv8xYz01'; // 28 characters

describe('cross-checks', () => {
  it('reads the object a string names', () => {
    expect(storageReference('x', 'gs://b/a/c.jpg')).toEqual({ bucket: 'b', name: 'a/c.jpg' });
    expect(
      storageReference(
        'x',
        'https://firebasestorage.googleapis.com/v0/b/p.appspot.com/o/img%2Fcat%20one.png?alt=media&token=t',
      ),
    ).toEqual({ bucket: 'p.appspot.com', name: 'img/cat one.png' });
    expect(storageReference('photoPath', '/avatars/u1.jpg')).toEqual({ name: 'avatars/u1.jpg' });
    expect(storageReference('imageUrl', 'avatars/u1.jpg')).toEqual({ name: 'avatars/u1.jpg' });
    // Plain strings in other fields, other web addresses, and prose are not references.
    expect(storageReference('title', 'avatars/u1.jpg')).toBeUndefined();
    expect(storageReference('url', 'https://example.com/a/b.png')).toBeUndefined();
    expect(storageReference('path', 'not a path')).toBeUndefined();
  });

  it('reports uid-keyed documents without a user and references without an object', () => {
    const checks = new CrossChecks({
      sources: ['firestore', 'auth', 'storage'],
      storage: { buckets: ['b'], prefix: '' },
    });
    checks.noteDocument(doc(`chats/${UID}`)); // uid-shaped id, no user
    checks.noteDocument(doc('users/alice', { photoPath: s('avatars/alice.jpg') }));
    checks.noteDocument(
      doc('users/bob', {
        photos: { arrayValue: { values: [s('gs://b/x.png'), s('gs://b/gone.png')] } },
      }),
    );
    checks.noteDocument(doc('profiles/bob'));
    checks.noteDocument(doc('posts/p1', { cover: s('gs://other-bucket/y.png') }));
    checks.noteUser('alice');
    checks.noteUser('bob');
    checks.noteObject('b', 'avatars/alice.jpg');
    checks.noteObject('b', 'x.png');
    expect(checks.report()).toEqual({
      uidsWithoutUser: {
        checked: 4,
        missing: 1,
        notChecked: 0,
        examples: [{ document: `chats/${UID}`, value: UID }],
      },
      missingStorageObjects: {
        checked: 3,
        missing: 1,
        // In a bucket the backup did not read: it cannot be checked.
        notChecked: 1,
        examples: [{ document: 'users/bob', field: 'photos[1]', value: 'gs://b/gone.png' }],
      },
    });
  });

  it('keeps at most maxTracked candidates and counts the others as not checked', () => {
    const checks = new CrossChecks({ sources: ['firestore', 'auth'], maxTracked: 2, examples: 1 });
    for (const id of ['u1', 'u2', 'u3', 'u4']) checks.noteDocument(doc(`users/${id}`));
    checks.noteDocument(doc('users/u1/private/u1'.replace('private/u1', 'x/y')));
    checks.noteUser('u2');
    expect(checks.report()?.uidsWithoutUser).toEqual({
      checked: 2,
      missing: 1,
      notChecked: 2,
      examples: [{ document: 'users/u1', value: 'u1' }],
    });
  });

  it('does nothing for a backup without two sources to compare', () => {
    expect(new CrossChecks({ sources: ['firestore'] }).report()).toBeUndefined();
    expect(new CrossChecks({ sources: ['auth', 'storage'] }).active).toBe(false);
  });
});
