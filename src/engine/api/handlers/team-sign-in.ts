import type { MethodName } from '../../../shared/api/contract.js';
import { TeamClient } from '../../team/client.js';
import { teamSignInStore } from '../../team/credentials.js';
import { SignInFlow } from '../../team/sign-in-flow.js';
import type { HandlerContext, HandlersFor } from './context.js';

/**
 * The team sign-in's contract methods over SignInFlow (src/engine/team/sign-in-flow.ts).
 * The client and the flow are one per handler context, shared with team.ts (status and
 * sign-out see the sign-in under way).
 */

const clients = new WeakMap<HandlerContext, TeamClient>();
const flows = new WeakMap<HandlerContext, SignInFlow>();

/**
 * The client of the organisation server over the machine's one team sign-in (ADR 0017):
 * the same team-session.json the CLI reads. `context.secrets` is where this front end
 * kept it before (the desktop's keychain store, the web mode's secrets.json): moved over once.
 */
export function teamClientOf(context: HandlerContext): TeamClient {
  let client = clients.get(context);
  if (client === undefined) {
    const fetch = context.team?.fetch;
    client = new TeamClient({
      secrets: teamSignInStore(context.dataDir, context.secrets),
      ...(fetch !== undefined ? { fetch } : {}),
    });
    clients.set(context, client);
  }
  return client;
}

export function signInFlowOf(context: HandlerContext): SignInFlow {
  let flow = flows.get(context);
  if (flow === undefined) {
    const o = context.team ?? {};
    flow = new SignInFlow({
      client: teamClientOf(context),
      ...(o.openUrl !== undefined ? { openUrl: o.openUrl } : {}),
      ...(o.signIn !== undefined ? { start: o.signIn } : {}),
      ...(o.signInTimeoutMs !== undefined ? { timeoutMs: o.signInTimeoutMs } : {}),
      ...(o.secondFactorTimeoutMs !== undefined
        ? { secondFactorTimeoutMs: o.secondFactorTimeoutMs }
        : {}),
    });
    flows.set(context, flow);
  }
  return flow;
}

type SignInMethod = 'team.signIn' | Extract<MethodName, `team.signIn.${string}`>;

export function teamSignInHandlers(context: HandlerContext): HandlersFor<SignInMethod> {
  return {
    'team.signIn': async ({ serverUrl }) => signInFlowOf(context).start(serverUrl),

    'team.signIn.state': async ({ waitMs }) => signInFlowOf(context).wait(waitMs),

    'team.signIn.secondFactor': async (answer) => ({
      step: 'signedIn' as const,
      ...(await signInFlowOf(context).submit(answer)),
    }),
  };
}
