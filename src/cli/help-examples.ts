import type { Command } from 'commander';

/**
 * Examples shown at the end of a command's --help, keyed by the command's words after
 * `firebackup`. Kept in one table, not in each command's module, so a reader sees the whole
 * CLI's examples at once and the help test can check that every flag they name exists.
 * They are the README's own examples (docs and help teach the same commands).
 */
export const HELP_EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  backup: [
    'firebackup backup --project my-project --credentials sa.json --to ./backups',
    'firebackup backup --project demo-app --emulator 127.0.0.1:8085 --to ./backups',
    'firebackup backup --project my-project --credentials sa.json --to s3://my-bucket/firebackup \\\n' +
      '    --sources firestore,auth,storage --buckets my-project.firebasestorage.app',
  ],
  restore: [
    'firebackup restore latest --from ./backups --to-project my-staging --dry-run',
    'firebackup restore latest --from ./backups --to-project my-staging --credentials sa.json',
    'firebackup restore latest --from ./backups --to-dir ./restored      # offline: plain files',
    'firebackup restore latest --from ./backups --project prod --to-project staging --mode overwrite',
    'firebackup restore latest --from ./backups --to-project my-staging --sources auth,storage \\\n' +
      '    --to-bucket my-staging.firebasestorage.app --dry-run',
  ],
  verify: [
    'firebackup verify latest --from ./backups          # exit 0: every byte authentic',
    'firebackup verify ./backups/bkp_20261129T065207123Z_a1b2c3d4.fbk',
    'firebackup verify latest --from s3://my-bucket/firebackup --digest-only',
  ],
  inspect: [
    'firebackup inspect latest --from ./backups',
    'firebackup inspect latest --from ./backups --path products/tea',
  ],
  delete: ['firebackup delete bkp_20261129T065207123Z_a1b2c3d4 --from ./backups --yes'],
  check: [
    'firebackup check --from s3://my-bucket/firebackup        # quick: no decryption',
    'firebackup check --from ./backups --read-data 0.1        # + a tenth of the archives in full',
    'firebackup check --from ./backups --repair               # + remove old orphans and leftovers',
  ],
  keys: [
    'firebackup keys generate --out ~/.firebackup.key',
    'firebackup keys rotate',
    'ENCRYPTION_OLD_KEYS=<old hex> firebackup keys rewrap --from ./backups --dry-run',
  ],
  'keys generate': [
    'firebackup keys generate --out ~/.firebackup.key   # then: --key-file ~/.firebackup.key',
  ],
  'keys rotate': [
    'firebackup keys rotate --key-file ~/.firebackup.key   # first time: creates keys.json with it',
    'firebackup keys list',
  ],
  'keys rewrap': [
    'ENCRYPTION_OLD_KEYS=<old hex> firebackup keys rewrap --from ./backups --dry-run',
    'ENCRYPTION_OLD_KEYS=<old hex> firebackup keys rewrap --from ./backups',
  ],
  'schedule add': [
    'firebackup schedule add nightly --project my-project --credentials sa.json \\\n' +
      '    --to s3://my-bucket/firebackup --cron "0 2 * * *" --tz Europe/Paris \\\n' +
      '    --keep-daily 7 --keep-weekly 4 --keep-monthly 12 --verify sample:0.25',
  ],
  prune: [
    'firebackup prune --schedule nightly --dry-run',
    'firebackup prune --project my-project --from ./backups --keep-daily 7 --dry-run',
  ],
  'catalog rebuild': [
    'firebackup catalog rebuild --from ./backups --from s3://my-bucket/firebackup',
  ],
  ui: ['firebackup ui --no-open --port 5123   # then: ssh -L 5123:127.0.0.1:5123 <this machine>'],
  server: [
    'JWT_SECRET=$(openssl rand -hex 32) firebackup server      # embedded database, 127.0.0.1:4000',
    'DATABASE_URL=postgresql://fb@db:5432/fb?sslmode=verify-full REDIS_URL=redis://cache:6379 \\\n' +
      '    JWT_SECRET=… HOST=0.0.0.0 firebackup server',
  ],
  login: [
    'firebackup login --server https://backup.example.com             # opens your browser',
    'firebackup login --server https://backup.example.com --no-open   # prints the address',
    'firebackup login --server https://backup.example.com --org <id>',
  ],
  whoami: ['firebackup whoami', 'firebackup whoami --json'],
  logout: ['firebackup logout   # ends the session on the server and forgets it here'],
  'audit verify': [
    'firebackup audit verify              # exit 0 intact, 3 tampered with, 1 cannot ask',
    'firebackup audit verify --org <id> --json',
  ],
  'audit export': [
    'firebackup audit export --format csv --output audit.csv',
    'firebackup audit export --event auth.login --since 2026-11-01T00:00:00Z --limit 1000',
  ],
  queue: [
    'firebackup queue                  # what waits, what was refused and why',
    'firebackup queue send             # send now',
    'firebackup queue retry <seq>      # send a refused one again (after fixing why)',
    'firebackup queue discard <seq>    # drop one for good',
  ],
};

/** Extra help text of commands whose settings are not flags. */
const HELP_NOTES: Readonly<Record<string, string>> = {
  server:
    'Configured by environment variables (all of them: docs/server.md):\n' +
    '  JWT_SECRET     required, at least 32 bytes (openssl rand -hex 32)\n' +
    '  HOST, PORT     where to listen (default: 127.0.0.1, 4000)\n' +
    '  DATABASE_URL   PostgreSQL (default: an embedded database in <data folder>/server-db)\n' +
    '  REDIS_URL      shared rate limits and revocations for 2+ instances (default: in memory)\n' +
    'A bad configuration stops it at once (exit 2), naming each variable to fix.',
};

/**
 * What the top-level help ends with: the exit codes scripts rely on. Unindented, so the
 * lines cannot be mistaken for the command list above them.
 */
const EXIT_CODES = [
  'Exit codes: 0 success; 1 the operation failed (network, permissions, documents not',
  'restored); 2 bad usage; 3 an archive is damaged, not the one its backup describes, or',
  'not readable by this version; 4 a key is missing, malformed or weak, or its key file is',
  'readable by others; 130 cancelled (Ctrl-C).',
].join('\n');

/** Adds the examples, notes and exit codes above to the help of `program`'s commands. */
export function addHelpExamples(program: Command): void {
  program.addHelpText('after', `\n${EXIT_CODES}`);
  const walk = (command: Command, words: string[]): void => {
    for (const sub of command.commands) {
      const name = [...words, sub.name()].join(' ');
      const note = HELP_NOTES[name];
      if (note !== undefined) sub.addHelpText('after', `\n${note}`);
      const examples = HELP_EXAMPLES[name];
      if (examples !== undefined)
        sub.addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}`);
      walk(sub, [...words, sub.name()]);
    }
  };
  walk(program, []);
}
