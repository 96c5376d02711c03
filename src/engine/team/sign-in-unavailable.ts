import { AppError } from '../../shared/errors.js';
import type { TeamCredentials } from './credentials.js';

/** How the app starts a browser sign-in (the shape of sign-in.ts's signInWithBrowser). */
export interface BrowserSignIn {
  (o: {
    serverUrl: string;
    /** Opens the provider's page: the system browser (desktop, CLI) or the web mode's tab. */
    openUrl: (url: string) => Promise<void> | void;
    signal?: AbortSignal;
    timeoutMs?: number;
  }): Promise<TeamCredentials>;
}

/**
 * Stand-in until the browser sign-in (src/engine/team/sign-in.ts, built on its own
 * branch) is merged: team.signIn fails plainly instead of pretending.
 */
export const signInWithBrowserNotAvailableYet: BrowserSignIn = async () => {
  throw new AppError(
    'FAILED_PRECONDITION',
    'Signing in to a team server from the app is not available yet in this build. Sign in with `firebackup login --server <url>` once it is, or ask your admin for a build with team sign-in.',
  );
};
