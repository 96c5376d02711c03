import { z } from 'zod';
import { ErrorDataSchema } from '../../jobs.js';
import { method } from '../define.js';

/**
 * The app's sign-in to an organisation server, step by step (src/engine/team/sign-in-flow.ts):
 * team.signIn opens the browser step; team.signIn.state says where it is (waiting a
 * little while the browser step runs); when the server demands a second factor,
 * team.signIn.secondFactor gives it (an authenticator's code, a recovery code, or the
 * first code of an authenticator being enrolled).
 */

export const SignInStateSchema = z.discriminatedUnion('step', [
  z.object({ step: z.literal('idle') }),
  z.object({ step: z.literal('browser'), url: z.string().nullable(), opened: z.boolean() }),
  z.object({
    step: z.literal('secondFactor'),
    secondFactor: z.enum(['code', 'enrol']),
    /** For 'enrol': the authenticator's otpauth:// URI and its key for typing by hand. */
    enrolment: z.object({ otpauthUri: z.string(), secret: z.string() }).nullable(),
    expiresAt: z.string(),
    /** After too many attempts: the server takes no code before this time. */
    retryAt: z.string().nullable(),
  }),
  z.object({ step: z.literal('signedIn'), email: z.string() }),
  z.object({ step: z.literal('failed'), error: ErrorDataSchema }),
]);
export type SignInState = z.infer<typeof SignInStateSchema>;

/** Six digits, as authenticator apps show them (a space in the middle is allowed). */
const code = z
  .string()
  .trim()
  .regex(/^\d{3} ?\d{3}$/, 'the 6-digit code of your authenticator app');

/** What a person typed: six digits are an authenticator's code, anything else a recovery code. */
export function secondFactorAnswer(typed: string): { code: string } | { recoveryCode: string } {
  const compact = typed.replace(/\s+/g, '');
  return /^\d{6}$/.test(compact) ? { code: compact } : { recoveryCode: typed.trim() };
}

export const teamSignInMethods = {
  'team.signIn.state': method({
    description:
      'Where the sign-in under way is: the browser step, the second factor it owes, signed in, or why it failed. While the browser step runs, waits up to waitMs for it to move on.',
    input: z.object({ waitMs: z.number().int().min(0).max(25_000).default(0) }).strict(),
    output: SignInStateSchema,
    permission: 'backups:view',
  }),
  'team.signIn.secondFactor': method({
    description:
      'Give the second factor the sign-in owes: the code of the authenticator app (also to finish enrolling one), or one of the recovery codes. Answers the recovery codes, once, after an enrolment.',
    input: z.union([
      z.object({ code }).strict(),
      z.object({ recoveryCode: z.string().trim().min(1, 'a recovery code').max(64) }).strict(),
    ]),
    output: z.object({
      step: z.literal('signedIn'),
      email: z.string(),
      recoveryCodes: z.array(z.string()).nullable(),
    }),
    permission: 'backups:view',
  }),
};
