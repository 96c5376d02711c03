import type { Command } from 'commander';
import { KeyStore, keyStorePath } from '../../engine/keys/key-store.js';
import { rotationSettingsFromEnv } from '../../engine/keys/rotation.js';
import {
  addCommonFlags,
  addKeyFlags,
  keyringFor,
  runCommand,
  type CliIO,
  type CommonFlags,
} from '../context.js';

/** The reminder every rotation prints: the store is now the one copy of the new key. */
export function backUpReminder(file: string, keyId: string): string {
  return [
    `!!! The key store ${file} now holds the new current key ${keyId}.`,
    '!!! BACK IT UP NOW (copy it somewhere safe, off this machine): without it, no backup made',
    '!!! from now on can be read. Older keys stay in it, so older backups stay readable.',
  ].join('\n');
}

function storeFor(io: CliIO, flags: CommonFlags): KeyStore {
  return new KeyStore(flags.keyStore ?? keyStorePath(io.env));
}

/**
 * Scheduled rotation as the environment asks for it: `store` only when rotation is on
 * and a key store exists (keys from ENCRYPTION_KEY alone have nowhere to go).
 */
export function scheduledRotation(
  io: CliIO,
  flags: CommonFlags,
): { enabled: boolean; intervalMs: number; store?: KeyStore; storeFile: string } {
  const settings = rotationSettingsFromEnv(io.env);
  const store = storeFor(io, flags);
  if (!settings.enabled) return { enabled: false, intervalMs: 0, storeFile: store.file };
  return {
    enabled: true,
    intervalMs: settings.intervalMs,
    storeFile: store.file,
    ...(store.exists() ? { store } : {}),
  };
}

/**
 * `keys rotate` and `keys list`, beside `keys generate` (keys.ts). Rotation makes a new
 * key current in the key store and keeps every older one; a first rotation creates the
 * store and takes in the keys given until now (ENCRYPTION_KEY or --key-file, and
 * ENCRYPTION_OLD_KEYS), so the store alone reads every backup made before.
 */
export function registerKeyRotation(keys: Command, io: CliIO, done: (code: number) => void): void {
  const rotate = keys
    .command('rotate')
    .description(
      'make a new key current in the key store, keeping the older ones for reading (creates the store on first use)',
    );
  addKeyFlags(rotate);
  addCommonFlags(rotate).action(async (flags: CommonFlags) => {
    done(
      await runCommand(io, flags, async ({ out }) => {
        // Loading first also refuses an ENCRYPTION_KEY that contradicts an existing store.
        const given = await keyringFor(io, flags);
        const current = given.currentKey;
        const importing = [
          ...(current ? [current] : []),
          ...given.ids.filter((id) => id !== current?.id).map((id) => given.find(id)!),
        ];
        const store = storeFor(io, flags);
        const result = await store.rotate('manual', importing);
        io.stderr.write(`${backUpReminder(store.file, result.current.id)}\n`);
        if (io.env.ENCRYPTION_KEY) {
          out.info(
            'ENCRYPTION_KEY is still set: it is accepted while the store holds it, but the store decides which key new backups get. You can unset it.',
          );
        }
        out.result(
          {
            keyId: result.current.id,
            previousKeyId: result.previousKeyId ?? null,
            keyStore: store.file,
            createdAt: result.createdAt,
          },
          `New current key ${result.current.id}${result.previousKeyId ? ` (was ${result.previousKeyId})` : ''} in ${store.file}.`,
        );
      }),
    );
  });

  const list = keys.command('list').description('the keys in the key store (ids and dates only)');
  addKeyFlags(list);
  addCommonFlags(list).action(async (flags: CommonFlags) => {
    done(
      await runCommand(io, flags, async ({ out }) => {
        const store = storeFor(io, flags);
        const keysHeld = await store.list();
        out.result(
          { keyStore: store.file, keys: keysHeld, log: await store.log() },
          [
            `Key store ${store.file}:`,
            ...keysHeld.map((k) => `  ${k.current ? '*' : ' '} ${k.id}  made ${k.createdAt}`),
            '(* = current: new backups are made with it)',
          ].join('\n'),
        );
      }),
    );
  });
}
