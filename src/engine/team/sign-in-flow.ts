import { AppError, toErrorData, type ErrorData } from '../../shared/errors.js';
import type { TeamClient } from './client.js';
import {
  startBrowserSignIn,
  type PendingSecondFactor,
  type SecondFactorAnswer,
  type SignInOptions,
  type SignInProgress,
} from './sign-in.js';

/**
 * The app's sign-in as a state machine over sign-in.ts's steps, one contract call at a
 * time (team.signIn, team.signIn.state, team.signIn.secondFactor), for the Team screen
 * of the desktop app and the web mode:
 *
 *   idle → browser → (secondFactor →) signedIn
 *                 ↘ failed ↙
 *
 * One sign-in under way per engine; starting again or signing out stops the one before
 * (its loopback listener closes, a session that still owed its second factor is ended on
 * the server). What completes is kept with TeamClient.replace, for every front end.
 */

/** The browser step (sign-in.ts's startBrowserSignIn; tests pass their own). */
export type BrowserSignIn = (o: SignInOptions) => Promise<SignInProgress>;

export type SignInState =
  | { step: 'idle' }
  | { step: 'browser'; url: string | null; opened: boolean }
  | {
      step: 'secondFactor';
      secondFactor: 'code' | 'enrol';
      /** For 'enrol': what the authenticator app reads (shown during this step only). */
      enrolment: { otpauthUri: string; secret: string } | null;
      expiresAt: string;
      /** After too many attempts: no code is taken before this time. */
      retryAt: string | null;
    }
  | { step: 'signedIn'; email: string }
  | { step: 'failed'; error: ErrorData };

export interface SignInFlowOptions {
  client: TeamClient;
  /** The desktop passes shell.openExternal; without it the URL goes back to the renderer. */
  openUrl?: (url: string) => Promise<void>;
  start?: BrowserSignIn;
  timeoutMs?: number;
  secondFactorTimeoutMs?: number;
}

interface Attempt {
  abort: AbortController;
  state: SignInState;
  pending: PendingSecondFactor | null;
  submitting: boolean;
  timer?: NodeJS.Timeout;
}

export class SignInFlow {
  private current: Attempt | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly o: SignInFlowOptions) {}

  state(): SignInState {
    return this.current?.state ?? { step: 'idle' };
  }

  /** While the browser step runs: the state at its next change, or after `ms`. */
  async wait(ms: number): Promise<SignInState> {
    if (ms > 0 && this.state().step === 'browser')
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        this.waiters.add(done);
      });
    return this.state();
  }

  /** Starts a sign-in; answers once the sign-in page is opened (or to be opened). */
  start(serverUrl: string): Promise<{ step: 'browser'; url: string; opened: boolean }> {
    this.cancel();
    const attempt: Attempt = {
      abort: new AbortController(),
      state: { step: 'browser', url: null, opened: false },
      pending: null,
      submitting: false,
    };
    this.current = attempt;
    const opened = this.o.openUrl !== undefined;
    return new Promise((resolve, reject) => {
      let answered = false;
      (this.o.start ?? startBrowserSignIn)({
        serverUrl,
        signal: attempt.abort.signal,
        ...(this.o.timeoutMs !== undefined ? { timeoutMs: this.o.timeoutMs } : {}),
        ...(this.o.secondFactorTimeoutMs !== undefined
          ? { secondFactorTimeoutMs: this.o.secondFactorTimeoutMs }
          : {}),
        openUrl: async (url) => {
          attempt.state = { step: 'browser', url, opened };
          // Desktop: the system browser. Web mode: the renderer opens it (a new tab).
          if (this.o.openUrl !== undefined) await this.o.openUrl(url);
          answered = true;
          resolve({ step: 'browser', url, opened });
        },
      })
        .then(async (progress) => {
          if (this.current !== attempt) {
            if (progress.step === 'secondFactor') await progress.pending.abandon();
            return;
          }
          if (progress.step === 'signedIn') await this.finish(attempt, progress.credentials);
          else this.awaitSecondFactor(attempt, progress.pending);
        })
        .catch((error: unknown) => {
          if (this.current === attempt) this.fail(attempt, error);
          if (!answered)
            reject(error instanceof Error ? error : new AppError('INTERNAL', String(error)));
        });
    });
  }

  /**
   * Gives the second factor the sign-in owes. Resolves once signed in (with the recovery
   * codes after an enrolment, to be shown once); a wrong code leaves the step open.
   */
  async submit(
    answer: SecondFactorAnswer,
  ): Promise<{ email: string; recoveryCodes: string[] | null }> {
    const attempt = this.current;
    const pending = attempt?.pending;
    if (
      attempt === undefined ||
      pending === null ||
      pending === undefined ||
      attempt.state.step !== 'secondFactor'
    )
      throw new AppError(
        'FAILED_PRECONDITION',
        'No sign-in is waiting for a code (it finished, was stopped or expired); sign in again.',
      );
    if (attempt.submitting)
      throw new AppError(
        'ABORTED',
        'A code for this sign-in is being checked already; wait for its answer.',
      );
    attempt.submitting = true;
    try {
      const done = await pending.submit(answer, attempt.abort.signal);
      const email = await this.finish(attempt, done.credentials);
      return { email, recoveryCodes: done.recoveryCodes };
    } catch (error) {
      if (this.current === attempt) {
        if (!pending.open) this.fail(attempt, error);
        else attempt.state = secondFactorState(pending);
      }
      throw error;
    } finally {
      attempt.submitting = false;
    }
  }

  /** Stops the sign-in under way, if any (signing out, or starting again). */
  cancel(): void {
    const attempt = this.current;
    if (attempt === undefined) return;
    this.current = undefined;
    attempt.abort.abort();
    clearTimeout(attempt.timer);
    void attempt.pending?.abandon();
    this.notify();
  }

  private awaitSecondFactor(attempt: Attempt, pending: PendingSecondFactor): void {
    attempt.pending = pending;
    attempt.state = secondFactorState(pending);
    // Left waiting past its deadline: the half-signed-in session is ended on the server.
    attempt.timer = setTimeout(
      () => {
        if (this.current !== attempt || attempt.submitting) return;
        void pending.abandon();
        this.fail(
          attempt,
          new AppError(
            'DEADLINE_EXCEEDED',
            'The sign-in waited too long for its code and was stopped; sign in again.',
          ),
        );
      },
      Math.max(0, pending.expiresAt - Date.now()),
    );
    attempt.timer.unref();
    this.notify();
  }

  private async finish(
    attempt: Attempt,
    credentials: Parameters<TeamClient['replace']>[0],
  ): Promise<string> {
    clearTimeout(attempt.timer);
    await this.o.client.replace(credentials);
    if (this.current === attempt) {
      attempt.state = { step: 'signedIn', email: credentials.user.email };
      this.notify();
    }
    return credentials.user.email;
  }

  private fail(attempt: Attempt, error: unknown): void {
    clearTimeout(attempt.timer);
    attempt.state = { step: 'failed', error: toErrorData(error) };
    this.notify();
  }

  private notify(): void {
    for (const wake of [...this.waiters]) wake();
  }
}

function secondFactorState(pending: PendingSecondFactor): SignInState {
  return {
    step: 'secondFactor',
    secondFactor: pending.demand,
    enrolment: pending.enrolment,
    expiresAt: new Date(pending.expiresAt).toISOString(),
    retryAt: pending.retryAt !== null ? new Date(pending.retryAt).toISOString() : null,
  };
}
