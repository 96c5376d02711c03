import { MAX_BACKUPS_PER_KEY, type KeyView } from '../../../shared/api/methods/keys.js';
import { AppError, toErrorData, isAppError } from '../../../shared/errors.js';
import { MasterKey } from '../../keys/master-key.js';
import { listBackups } from '../../operations/list.js';
import type { HandlerContext, HandlersFor } from './context.js';

/** The recovery kit's text: every key held, and how to read backups with them. */
export function recoveryKitText(
  keys: { id: string; hex: string; createdAt: string | null; current: boolean }[],
  madeAt: string,
  keyStoreFile: string,
): string {
  const current = keys.find((k) => k.current);
  const old = keys.filter((k) => !k.current);
  return [
    'FireBackup recovery kit',
    '=======================',
    '',
    `Made ${madeAt}.`,
    '',
    'These keys are the ONLY way to read your backups. Anyone who has them can read',
    'every backup made with them; without them nobody can, not even FireBackup.',
    'Keep this file offline and private (a password manager, a printed copy in a safe).',
    'Make a new kit after every key rotation.',
    '',
    'Keys',
    '----',
    ...keys.flatMap((k) => [
      `${k.current ? 'Current key' : 'Older key'} ${k.id}${k.createdAt ? ` (made ${k.createdAt})` : ''}:`,
      `  ${k.hex}`,
      '',
    ]),
    'To use them',
    '-----------',
    '- In the FireBackup app: Keys → Import a key, once per key above.',
    '- On the command line:',
    current ? `    export ENCRYPTION_KEY=${current.hex}` : '',
    old.length ? `    export ENCRYPTION_OLD_KEYS=${old.map((k) => k.hex).join(',')}` : '',
    '    firebackup list <destination>    (then restore or verify as usual)',
    '',
    `This machine keeps the keys in ${keyStoreFile}; back that file up too.`,
    '',
  ]
    .filter((line, i, all) => line !== '' || all[i - 1] !== '')
    .join('\n');
}

export function keyHandlers({
  runtime,
  keyring,
  keyStore,
}: HandlerContext): HandlersFor<
  'keys.list' | 'keys.generate' | 'keys.import' | 'keys.rotate' | 'keys.recoveryKit'
> {
  const { catalog, clock } = runtime;
  const storedKeys = async () => {
    const store = keyStore();
    return store.exists() ? await store.list() : [];
  };

  return {
    'keys.list': async () => {
      const store = keyStore();
      const stored = await storedKeys();
      const byId = new Map<string, KeyView>();
      const currentId = keyring.currentKey?.id;
      for (const id of [...(currentId ? [currentId] : []), ...keyring.ids]) {
        if (byId.has(id)) continue;
        const s = stored.find((k) => k.id === id);
        byId.set(id, {
          id,
          createdAt: s?.createdAt ?? null,
          current: id === currentId,
          inStore: s !== undefined,
          held: true,
          backupCount: 0,
          backups: [],
        });
      }
      const destinationErrors: {
        destinationId: string;
        destinationName: string;
        error: ReturnType<typeof toErrorData>;
      }[] = [];
      // One destination at a time: a slow or unreachable one is reported, not fatal.
      for (const d of catalog.destinations.list()) {
        try {
          const backups = await listBackups(await runtime.openDestination(d), keyring);
          for (const b of backups) {
            const key =
              byId.get(b.keyId) ??
              byId
                .set(b.keyId, {
                  id: b.keyId,
                  createdAt: null,
                  current: false,
                  inStore: false,
                  held: false,
                  backupCount: 0,
                  backups: [],
                })
                .get(b.keyId)!;
            key.backupCount += 1;
            if (key.backups.length < MAX_BACKUPS_PER_KEY) {
              key.backups.push({
                destinationId: d.id,
                destinationName: d.name,
                backupId: b.id,
                createdAt: b.createdAt,
                ...(b.project ? { project: b.project } : {}),
              });
            }
          }
        } catch (error) {
          destinationErrors.push({
            destinationId: d.id,
            destinationName: d.name,
            error: toErrorData(
              isAppError(error)
                ? error
                : new AppError('UNAVAILABLE', `Could not list the backups of ${d.name}.`),
            ),
          });
        }
      }
      return {
        keyStore: { file: store.file, exists: store.exists() },
        keys: [...byId.values()],
        destinationErrors,
      };
    },

    'keys.generate': async () => {
      const store = keyStore();
      if (store.exists()) {
        throw new AppError(
          'ALREADY_EXISTS',
          `There is a key store already (${store.file}). To start using a new key, rotate: older keys stay for reading.`,
        );
      }
      // Keys given by the environment go into the new store, so nothing readable now is lost.
      const given = keyring.ids.map((id) => keyring.find(id)!);
      const result = await store.rotate('manual', given);
      keyring.adopt(result.current);
      return { keyId: result.current.id };
    },

    'keys.import': async ({ key }) => {
      const imported = MasterKey.fromHex(key, 'the key you entered');
      const { current } = await keyStore().import(imported);
      if (current) keyring.adopt(imported);
      else keyring.hold(imported);
      return { keyId: imported.id, current };
    },

    'keys.rotate': async () => {
      const store = keyStore();
      if (!store.exists()) {
        throw new AppError(
          'KEY_NOT_FOUND',
          'There is no key store to rotate yet. Make your first key (Keys → Make a key).',
        );
      }
      const result = await store.rotate('manual');
      keyring.adopt(result.current);
      return { keyId: result.current.id, previousKeyId: result.previousKeyId ?? null };
    },

    'keys.recoveryKit': async () => {
      const store = keyStore();
      const stored = await storedKeys();
      const currentId = keyring.currentKey?.id;
      if (keyring.ids.length === 0) {
        throw new AppError(
          'KEY_NOT_FOUND',
          'There is no key yet, so there is nothing to put in a recovery kit. Make a key first.',
        );
      }
      const now = clock.now().toISOString();
      const keys = [...new Set([...(currentId ? [currentId] : []), ...keyring.ids])].map((id) => ({
        id,
        hex: keyring.find(id)!.revealHex(),
        createdAt: stored.find((k) => k.id === id)?.createdAt ?? null,
        current: id === currentId,
      }));
      return {
        fileName: `firebackup-recovery-kit-${now.slice(0, 10)}.txt`,
        text: recoveryKitText(keys, now, store.file),
      };
    },
  };
}
