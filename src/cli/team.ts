import { spawn } from 'node:child_process';
import path from 'node:path';
import { appDataDir } from '../engine/paths.js';
import { FileSecretStore } from '../engine/secrets/secret-store.js';
import { TeamClient } from '../engine/team/client.js';
import { teamSignInStore, type TeamSignInStore } from '../engine/team/credentials.js';
import type { CliIO } from './context.js';

/**
 * What `login`, `logout` and `whoami` share: the client of the organisation server over
 * the machine's one team sign-in (team-session.json in the data folder, shared with the
 * web mode and the desktop app: ADR 0017), and opening the system browser.
 */
export function cliTeamClient(io: CliIO): TeamClient {
  return new TeamClient({ secrets: cliSecrets(io) });
}

/**
 * The store of the CLI's team sign-in, for a TeamClient: the machine's shared one (before
 * it was shared, the CLI kept it in its secrets.json: moved over once).
 */
export function cliSecrets(io: CliIO): TeamSignInStore {
  const dataDir = appDataDir(io.env);
  return teamSignInStore(dataDir, new FileSecretStore(path.join(dataDir, 'secrets.json')));
}

/** The platform's opener; $BROWSER (a command) wins, as on most Unix tools. */
function opener(url: string, env: NodeJS.ProcessEnv): [string, string[]] {
  if (env.BROWSER) return [env.BROWSER, [url]];
  if (process.platform === 'darwin') return ['open', [url]];
  // rundll32 hands the address to the default browser without cmd.exe parsing its `&`s.
  if (process.platform === 'win32') return ['rundll32', ['url.dll,FileProtocolHandler', url]];
  return ['xdg-open', [url]];
}

/** How long an opener may take to say it failed; after that it is taken to have worked. */
const OPENER_GRACE_MS = 3000;

/** Opens `url` in the system browser; rejects when no browser can be launched. */
export function openInBrowser(url: string, env: NodeJS.ProcessEnv): Promise<void> {
  const [command, args] = opener(url, env);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    const timer = setTimeout(() => {
      child.unref();
      resolve();
    }, OPENER_GRACE_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${command} exited with ${code}`));
    });
  });
}
