import type { SafeStorageLike } from '../../src/main/secrets.js';

/** A stand-in for Electron's safeStorage: reversible, and visibly not the plain text. */
export function fakeSafeStorage(backend = 'gnome_libsecret', available = true): SafeStorageLike {
  return {
    isEncryptionAvailable: () => available,
    encryptString: (s) => Buffer.from(Buffer.from(`enc(${s})`).map((b) => b ^ 0x5a)),
    decryptString: (b) => {
      const s = Buffer.from(b.map((x) => x ^ 0x5a)).toString();
      if (!s.startsWith('enc(')) throw new Error('not ours');
      return s.slice(4, -1);
    },
    getSelectedStorageBackend: () => backend,
  };
}
