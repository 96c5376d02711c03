import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { AppError } from '../../shared/errors.js';
import { MasterKey } from '../../engine/keys/master-key.js';
import { fromFsError } from '../../engine/util/fs-errors.js';
import { addCommonFlags, runCommand, type CliIO, type CommonFlags } from '../context.js';
import { registerKeysRewrap } from './keys-rewrap.js';
import { registerKeyRotation } from './keys-rotate.js';

interface GenerateFlags extends CommonFlags {
  out?: string;
}

export function registerKeys(program: Command, io: CliIO, done: (code: number) => void): void {
  const keys = program.command('keys').description('make and manage encryption keys');
  addCommonFlags(
    keys
      .command('generate')
      .description('make a new random 256-bit key (64 hex characters)')
      .option(
        '--out <file>',
        'write the key to this file (mode 600, must not exist) instead of stdout',
      ),
  ).action(async (flags: GenerateFlags) => {
    done(
      await runCommand(io, flags, async ({ out }) => {
        const key = MasterKey.generate();
        if (flags.out) {
          await writeFile(flags.out, `${key.revealHex()}\n`, { mode: 0o600, flag: 'wx' }).catch(
            (error: unknown) => {
              if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
                throw new AppError(
                  'ALREADY_EXISTS',
                  `${flags.out} already exists, and a key file is never overwritten (the key in it may be the only copy). Choose a new file name.`,
                );
              }
              throw fromFsError(error, `Cannot write the key to ${flags.out}`);
            },
          );
          out.result(
            { keyId: key.id, file: flags.out },
            `Wrote key ${key.id} to ${flags.out}. Keep a copy somewhere safe: without it no backup made with it can be read.`,
          );
          return;
        }
        // The one place a key is printed: the user asked for it.
        out.info(`New key ${key.id}. Keep it safe: without it no backup made with it can be read.`);
        out.result({ keyId: key.id, key: key.revealHex() }, key.revealHex());
      }),
    );
  });
  registerKeysRewrap(keys, io, done);
  registerKeyRotation(keys, io, done);
}
