import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { appDataDir } from '../../engine/paths.js';
import { TeamClient } from '../../engine/team/client.js';
import { TeamLocalStore, teamStorePath, type OutboxItem } from '../../engine/team/local-store.js';
import { TeamService } from '../../engine/team/service.js';
import { AppError } from '../../shared/errors.js';
import { addCommonFlags, runCommand, type CliIO, type CommonFlags } from '../context.js';
import { cliSecrets } from '../team.js';

/**
 * `firebackup queue`: team sync mode's changes still waiting for the organisation server
 * (see "What is queued" in the README), and what to do with them: `send` now, `retry` one
 * the server refused (after fixing why), `discard` one for good. The same queue the app's
 * Team screen shows under Queued changes.
 */
export function registerQueue(program: Command, io: CliIO, done: (code: number) => void): void {
  const queue = program
    .command('queue')
    .description(
      'team sync: list the changes waiting for the organisation server (or send, retry, discard them)',
    );

  const withService = async <T>(run: (service: TeamService) => Promise<T>): Promise<T> => {
    const file = teamStorePath(appDataDir(io.env));
    const store = TeamLocalStore.open(file);
    try {
      return await run(new TeamService(new TeamClient({ secrets: cliSecrets(io) }), store));
    } finally {
      store.close();
    }
  };
  const line = (i: OutboxItem) =>
    `${String(i.seq).padStart(5)}  ${i.state.padEnd(7)}  ${i.action.padEnd(20)}  ${i.createdAt}  ${i.attempts} attempt(s)${i.lastError !== null ? `  ${i.lastError.code}: ${i.lastError.message}` : ''}`;
  const missing = (seq: number, what: string) =>
    new AppError('NOT_FOUND', `No ${what} ${seq} in the queue; list it with \`firebackup queue\`.`);
  const seqOf = (raw: string): number => {
    const seq = Number(raw);
    if (!Number.isInteger(seq) || seq <= 0)
      throw new AppError(
        'INVALID_ARGUMENT',
        `"${raw}" is not a queue number; list them with \`firebackup queue\`.`,
      );
    return seq;
  };

  addCommonFlags(queue).action(async (flags: CommonFlags) => {
    done(
      await runCommand(io, flags, async ({ out }) => {
        if (!existsSync(teamStorePath(appDataDir(io.env)))) {
          out.result({ items: [] }, 'Nothing is queued (team sync mode was never used here).');
          return;
        }
        const items = await withService(async (s) => s.queue());
        out.result(
          { items },
          items.length === 0
            ? 'Nothing is queued: the organisation server has every change made here.'
            : [
                '  seq  state    action                created                   tries',
                ...items.map(line),
              ].join('\n'),
        );
      }),
    );
  });

  addCommonFlags(queue.command('send').description('send the queued changes now')).action(
    async (flags: CommonFlags) => {
      done(
        await runCommand(io, flags, async ({ out }) => {
          const sent = await withService((s) => s.deliver());
          out.result(sent, `Sent ${sent.delivered}; ${sent.remaining} still waiting.`);
        }),
      );
    },
  );

  addCommonFlags(
    queue
      .command('retry <seq>')
      .description('send a change the server refused again (after fixing why), then the queue'),
  ).action(async (raw: string, flags: CommonFlags) => {
    done(
      await runCommand(io, flags, async ({ out }) => {
        const seq = seqOf(raw);
        const sent = await withService(async (s) => {
          if (!s.retry(seq)) throw missing(seq, 'refused change');
          return s.deliver();
        });
        out.result(sent, `Sent ${sent.delivered}; ${sent.remaining} still waiting.`);
      }),
    );
  });

  addCommonFlags(
    queue.command('discard <seq>').description('drop a queued change for good (it is never sent)'),
  ).action(async (raw: string, flags: CommonFlags) => {
    done(
      await runCommand(io, flags, async ({ out }) => {
        const seq = seqOf(raw);
        await withService(async (s) => {
          if (!s.discard(seq)) throw missing(seq, 'queued change');
        });
        out.result({ discarded: seq }, `Dropped change ${seq}; the server will never get it.`);
      }),
    );
  });
}
