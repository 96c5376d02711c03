/** Cloud Storage buckets as a backup source: the same client options as gs:// destinations. */
import { Storage, type Bucket } from '@google-cloud/storage';
import { storageOptions } from '../../storage/gcs/open.js';

export interface OpenStorageSourceOptions {
  projectId?: string;
  /** "host:port" of a Firebase Storage emulator (FIREBASE_STORAGE_EMULATOR_HOST). */
  emulatorHost?: string;
  credentialsFile?: string;
}

export interface StorageSource {
  storage: Storage;
  /** Single-request uploads against the emulator (its resumable uploads lose chunks). */
  resumable: boolean;
  emulator: boolean;
  bucket(name: string): Bucket;
}

export function openStorageSource(options: OpenStorageSourceOptions): StorageSource {
  const storage = new Storage({
    ...storageOptions({
      projectId: options.projectId,
      keyFilename: options.credentialsFile,
      credentials: undefined,
      emulatorHost: options.emulatorHost,
      resumable: !options.emulatorHost,
      chunkSize: 0,
    }),
    // Destinations retry in their own wrapper; a source lets the library retry its
    // idempotent calls (listing, metadata, the start of a download).
    retryOptions: { autoRetry: true, maxRetries: 5 },
  });
  return {
    storage,
    resumable: !options.emulatorHost,
    emulator: Boolean(options.emulatorHost),
    bucket: (name) => storage.bucket(name),
  };
}
