/**
 * The desktop app's SecretStore: each value encrypted with Electron's safeStorage (macOS
 * Keychain, Windows DPAPI, libsecret or KWallet on Linux) in the engine's secrets file
 * format. On Linux without a keyring, safeStorage falls back to `basic_text`: a key
 * written into Chromium itself, which protects nothing. Then the app says so plainly and
 * stores nothing until the person agrees (the renderer shows `protection()`).
 */
import {
  FileSecretStore,
  type SecretProtection,
  type SecretStore,
} from '../engine/secrets/secret-store.js';

/** The members of Electron's `safeStorage` used here (a fake in tests). */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only, after `app` is ready. */
  getSelectedStorageBackend?(): string;
}

/** Where the person's answer to "store secrets without a keyring?" is kept. */
export interface WeakStorageConsent {
  given(): boolean;
  give(): void;
}

export function safeStorageProtection(
  safeStorage: SafeStorageLike,
  platform: NodeJS.Platform,
  consented: boolean,
): SecretProtection {
  if (!safeStorage.isEncryptionAvailable()) {
    return {
      backend: 'unavailable',
      encrypted: false,
      needsConsent: true,
      message:
        'This system offers FireBackup no way to encrypt secrets (no keychain or keyring is available), so keys and credentials cannot be saved in the app. Use a key file with the CLI, or set up your system keyring and restart FireBackup.',
    };
  }
  if (platform === 'linux' && safeStorage.getSelectedStorageBackend?.() === 'basic_text') {
    return {
      backend: 'basic_text',
      encrypted: false,
      needsConsent: !consented,
      message: consented
        ? 'No system keyring was found, so your keys and credentials are stored with a fixed key built into the app: anyone who can read your files can read them. You agreed to this; set up GNOME Keyring or KWallet and restart FireBackup to protect them.'
        : 'No system keyring (GNOME Keyring or KWallet) was found. Without one, FireBackup can only store your keys and credentials with a fixed key built into the app, so anyone who can read your files could read them. Set up a keyring and restart FireBackup, or agree to store them this way.',
    };
  }
  return {
    backend: 'os',
    encrypted: true,
    needsConsent: false,
    message:
      platform === 'darwin'
        ? 'Keys and credentials are encrypted with a key kept in your macOS Keychain.'
        : platform === 'win32'
          ? 'Keys and credentials are encrypted for your Windows account (DPAPI).'
          : 'Keys and credentials are encrypted with a key kept in your system keyring.',
  };
}

export interface DesktopSecretStore extends SecretStore {
  /** The person agreed to weaker storage (only meaningful for `basic_text`). */
  acceptWeakStorage(): SecretProtection;
}

export function createDesktopSecretStore(o: {
  file: string;
  safeStorage: SafeStorageLike;
  consent: WeakStorageConsent;
  platform?: NodeJS.Platform;
}): DesktopSecretStore {
  const platform = o.platform ?? process.platform;
  const protection = (): SecretProtection =>
    safeStorageProtection(o.safeStorage, platform, o.consent.given());
  const store = new FileSecretStore(o.file, {
    encoding: 'safeStorage',
    platform,
    protection,
    codec: {
      encode: (plain) => o.safeStorage.encryptString(plain).toString('base64'),
      decode: (stored) => o.safeStorage.decryptString(Buffer.from(stored, 'base64')),
    },
  });
  return {
    protection,
    get: (name) => store.get(name),
    set: (name, value) => store.set(name, value),
    delete: (name) => store.delete(name),
    names: () => store.names(),
    acceptWeakStorage() {
      if (protection().backend === 'basic_text') o.consent.give();
      return protection();
    },
  };
}
