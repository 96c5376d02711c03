import { spawn } from 'node:child_process';

/**
 * The platform's own way to open a URL, as a program and its arguments — never a shell
 * string, so nothing in the URL is ever interpreted by a shell (Windows' `start` is a
 * cmd.exe built-in, hence rundll32's URL handler there).
 */
export function openerFor(
  url: string,
  platform: NodeJS.Platform = process.platform,
): { command: string; args: string[] } {
  if (platform === 'darwin') return { command: 'open', args: [url] };
  if (platform === 'win32')
    return { command: 'rundll32.exe', args: ['url.dll,FileProtocolHandler', url] };
  return { command: 'xdg-open', args: [url] };
}

/** Opens `url` in the default browser; resolves false when no opener could be started. */
export function openBrowser(url: string): Promise<boolean> {
  const { command, args } = openerFor(url);
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'ignore', detached: true, shell: false });
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      child.unref();
      resolve(true);
    });
  });
}
