import { useEffect, useState, type FormEvent } from 'react';
import type { TeamStatus } from '../../../shared/api/methods/team.js';
import type { SignInState } from '../../../shared/api/methods/team-sign-in.js';
import { API_KEY_SCOPES, type ApiKeyScope, type Role } from '../../../shared/rbac.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { ErrorNotice } from '../../components/ErrorNotice.js';
import { formatDuration } from '../../components/format.js';
import { QrCode } from '../../components/QrCode.js';
import { Section } from '../../components/Section.js';
import { useApp } from '../../store/index.js';
import { roleChoices, teamAbilities } from './permissions.js';

const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—');

/** "5 min 3 s ago" from an ISO time (the age of the last sync). */
function age(iso: string): string {
  return `${formatDuration(Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000))} ago`;
}

/**
 * Team sync mode: the sign-in and organisation, then members, API keys, the audit log,
 * your sessions and queued changes. Actions the role lacks are not offered (the server
 * refuses them anyway, and its refusal is shown as the error it is).
 */
export function TeamScreen() {
  const status = useApp((s) => s.team.status);
  const loadAll = useApp((s) => s.team.loadAll);
  const actionError = useApp((s) => s.team.actionError);
  const clearError = useApp((s) => s.team.clearError);
  const notice = useApp((s) => s.team.notice);
  useEffect(() => void loadAll(), [loadAll]);
  const st = status.value;
  const role = st?.organization?.role ?? null;
  const can = teamAbilities(role);
  return (
    <div className="stack">
      <ErrorNotice error={status.error} onRetry={() => void loadAll()} />
      <ErrorNotice error={actionError} onDismiss={clearError} />
      <p role="status" className="muted">
        {notice ?? ''}
      </p>
      <RecoveryCodesNote />
      {st && !st.signedIn && <SignInSection status={st} />}
      {st?.signedIn && <AccountSection status={st} />}
      {st?.signedIn && st.organization && <MembersSection role={role} />}
      {st?.signedIn && st.organization && can.manageApiKeys && !st.offline && <ApiKeysSection />}
      {st?.signedIn && st.organization && can.readAudit && !st.offline && <AuditSection />}
      {st?.signedIn && <SessionsSection />}
      <QueueSection />
    </div>
  );
}

function SignInSection({ status }: { status: TeamStatus }) {
  const signIn = useApp((s) => s.team.signIn);
  const url = useApp((s) => s.team.signInUrl);
  const step = useApp((s) => s.team.signInState);
  const [server, setServer] = useState('');
  if (step?.step === 'secondFactor') return <SecondFactorSection step={step} />;
  return (
    <Section title="Sign in to your team">
      <p>
        In team sync mode your organisation&apos;s server keeps the shared projects, backups and who
        may do what. Backups and keys stay on this machine. One sign-in serves every FireBackup on
        this computer: the CLI (<code>firebackup login</code>), the web mode and the desktop app.
      </p>
      <ErrorNotice error={status.problem} />
      <ErrorNotice error={status.signIn.error} />
      <form
        className="row wrap"
        aria-label="Sign in"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          void signIn(server.trim());
        }}
      >
        <label className="field grow">
          Server address
          <input
            type="url"
            required
            placeholder="https://backup.example.com"
            value={server}
            onChange={(e) => setServer(e.target.value)}
          />
        </label>
        <button type="submit" className="primary">
          Sign in
        </button>
      </form>
      {url && (
        <p>
          <a href={url} target="_blank" rel="noopener noreferrer">
            Open the sign-in page
          </a>{' '}
          (a new tab), then come back here.
        </p>
      )}
      {status.signIn.pending && <p className="muted">Waiting for the sign-in to finish…</p>}
    </Section>
  );
}

/** Seconds left until `iso` (0 when past), ticking every second while it counts down. */
function useSecondsUntil(iso: string | null): number {
  const [now, setNow] = useState(() => Date.now());
  const left = iso === null ? 0 : Math.max(0, Math.ceil((Date.parse(iso) - now) / 1000));
  useEffect(() => {
    if (left <= 0) return undefined;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [left]);
  return left;
}

/** The authenticator key in groups of four, as authenticator apps show it. */
const grouped = (secret: string) => secret.replace(/(.{4})/g, '$1 ').trim();

/**
 * The sign-in's second step: the code of the authenticator app (or a recovery code), or
 * on a server that requires two-step sign-in, setting an authenticator up first. The
 * otpauth:// address is drawn as a QR code in the page (components/QrCode.tsx: the secret
 * never leaves the machine to be drawn elsewhere), with the key and the address beside it
 * as text for those who cannot scan.
 */
function SecondFactorSection({ step }: { step: Extract<SignInState, { step: 'secondFactor' }> }) {
  const submit = useApp((s) => s.team.submitSecondFactor);
  const error = useApp((s) => s.team.secondFactorError);
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const wait = useSecondsUntil(step.retryAt);
  const enrol = step.secondFactor === 'enrol';
  return (
    <Section title={enrol ? 'Set up two-step sign-in' : 'Two-step sign-in'}>
      {enrol && step.enrolment && (
        <>
          <p>
            This server requires a second step at sign-in. Add FireBackup to your authenticator app
            (Google Authenticator, 1Password, Authy…): scan this QR code with it, or choose to enter
            a setup key and type the key beside it, or open the address on the device with the app.
          </p>
          <div className="enrolment">
            <QrCode text={step.enrolment.otpauthUri} label="QR code for your authenticator app" />
            <dl className="facts">
              <dt>Setup key</dt>
              <dd>
                <code className="key-hex" aria-label="Setup key">
                  {grouped(step.enrolment.secret)}
                </code>
              </dd>
              <dt>Address</dt>
              <dd>
                <code className="key-hex">{step.enrolment.otpauthUri}</code>
              </dd>
            </dl>
          </div>
          <p>Then enter the 6-digit code the app shows for FireBackup.</p>
        </>
      )}
      {!enrol && (
        <p>
          Enter the 6-digit code your authenticator app shows for FireBackup, or one of your
          recovery codes.
        </p>
      )}
      <form
        className="row wrap"
        aria-label="Second factor"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          setBusy(true);
          void submit(code).finally(() => {
            setBusy(false);
            setCode('');
          });
        }}
      >
        <label className="field">
          {enrol ? 'Code from the app' : 'Code or recovery code'}
          <input
            required
            autoComplete="one-time-code"
            inputMode={enrol ? 'numeric' : 'text'}
            maxLength={64}
            value={code}
            aria-invalid={error !== null}
            aria-describedby={error !== null ? 'second-factor-error' : undefined}
            onChange={(e) => setCode(e.target.value)}
          />
        </label>
        <button type="submit" className="primary" disabled={busy || wait > 0}>
          {wait > 0 ? `Try again in ${wait} s` : 'Continue'}
        </button>
      </form>
      <div id="second-factor-error">
        <ErrorNotice error={error} />
      </div>
      <p className="muted">
        This step waits until {new Date(step.expiresAt).toLocaleTimeString()}; after that, sign in
        again.
      </p>
    </Section>
  );
}

/** After enrolling an authenticator: the recovery codes, shown this once. */
function RecoveryCodesNote() {
  const codes = useApp((s) => s.team.recoveryCodes);
  const dismiss = useApp((s) => s.team.dismissRecoveryCodes);
  if (codes === null || codes.length === 0) return null;
  return (
    <div className="notice notice-ok" role="note" aria-label="Recovery codes">
      <p>
        Two-step sign-in is on. Keep these one-use recovery codes somewhere safe (each signs you in
        once if you lose your authenticator); they are shown only now:
      </p>
      <ul>
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ul>
      <button type="button" onClick={dismiss}>
        I saved them
      </button>
    </div>
  );
}

function AccountSection({ status }: { status: TeamStatus }) {
  const pick = useApp((s) => s.team.pickOrganization);
  const sync = useApp((s) => s.team.sync);
  const signOut = useApp((s) => s.team.signOut);
  return (
    <Section title="Account and organisation">
      {status.offline && (
        <div className="notice notice-warning" role="note" aria-label="Offline">
          <p>
            The server cannot be reached. You see the state of{' '}
            {status.lastSyncAt ? `${when(status.lastSyncAt)} (${age(status.lastSyncAt)})` : 'never'}
            ; changes you make are queued and sent once it is back.
          </p>
        </div>
      )}
      <dl className="facts">
        <dt>Server</dt>
        <dd>{status.serverUrl}</dd>
        <dt>Signed in as</dt>
        <dd>{status.user?.email}</dd>
        <dt>Role</dt>
        <dd>{status.organization?.role ?? 'pick an organisation'}</dd>
        <dt>Last sync</dt>
        <dd>
          {status.lastSyncAt ? `${when(status.lastSyncAt)} (${age(status.lastSyncAt)})` : 'never'}
        </dd>
        <dt>Queued changes</dt>
        <dd>
          {status.queue.pending} waiting
          {status.queue.failed > 0 ? `, ${status.queue.failed} refused` : ''}
        </dd>
      </dl>
      <div className="row wrap">
        <label>
          Organisation
          <select
            value={status.organization?.id ?? ''}
            onChange={(e) => void pick(e.target.value)}
            disabled={status.organizations.length === 0}
          >
            {status.organization === null && <option value="">Choose…</option>}
            {status.organizations.map((o) => (
              <option key={o.id} value={o.id}>
                {o.name} ({o.role})
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => void sync()}>
          Sync now
        </button>
        <ConfirmDialog
          trigger={<button type="button">Sign out</button>}
          title="Sign out of the team server?"
          confirmLabel="Sign out"
          onConfirm={() => void signOut()}
        >
          <p>
            This machine forgets the sign-in, for the CLI and the other FireBackup windows too.
            Queued changes stay here and are sent when you sign in again.
          </p>
        </ConfirmDialog>
      </div>
      {status.organizations.length === 0 && (
        <p className="muted">
          You are in no organisation yet: ask an admin of yours to invite you.
        </p>
      )}
    </Section>
  );
}

function MembersSection({ role }: { role: Role | null }) {
  const members = useApp((s) => s.team.members);
  const setRole = useApp((s) => s.team.setRole);
  const remove = useApp((s) => s.team.removeMember);
  const me = useApp((s) => s.team.status.value?.user?.id);
  const can = teamAbilities(role);
  const list = members.value;
  return (
    <Section title="Members">
      <ErrorNotice error={members.error} />
      {list?.offline && list.syncedAt && (
        <p className="muted">Last known list, from {when(list.syncedAt)}.</p>
      )}
      {list && (
        <table className="data">
          <caption className="muted">Who is in the organisation, and their role</caption>
          <thead>
            <tr>
              <th scope="col">Member</th>
              <th scope="col">Role</th>
              <th scope="col">Joined</th>
              {can.manageMembers && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {list.items.map((m) => {
              const choices = roleChoices(role, m.role);
              return (
                <tr key={m.userId}>
                  <td>
                    {m.name ? `${m.name} · ` : ''}
                    {m.email}
                    {m.userId === me ? ' (you)' : ''}
                  </td>
                  <td>
                    {choices.length > 0 && !list.offline ? (
                      <select
                        aria-label={`Role of ${m.email}`}
                        value={m.role}
                        onChange={(e) => void setRole(m.userId, e.target.value as Role)}
                      >
                        {choices.map((r) => (
                          <option key={r} value={r}>
                            {r}
                          </option>
                        ))}
                      </select>
                    ) : (
                      m.role
                    )}
                  </td>
                  <td>{when(m.joinedAt)}</td>
                  {can.manageMembers && (
                    <td>
                      {choices.length > 0 && !list.offline && (
                        <ConfirmDialog
                          trigger={
                            <button type="button" aria-label={`Remove ${m.email}`}>
                              Remove
                            </button>
                          }
                          title={`Remove ${m.email}?`}
                          confirmLabel="Remove"
                          onConfirm={() => void remove(m.userId)}
                        >
                          <p>They lose access to the organisation at once.</p>
                        </ConfirmDialog>
                      )}
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </Section>
  );
}

function ApiKeysSection() {
  const keys = useApp((s) => s.team.apiKeys);
  const newKey = useApp((s) => s.team.newKey);
  const create = useApp((s) => s.team.createKey);
  const revoke = useApp((s) => s.team.revokeKey);
  const dismiss = useApp((s) => s.team.dismissNewKey);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<ApiKeyScope[]>(['backups:read']);
  const [days, setDays] = useState(90);
  return (
    <Section title="API keys">
      <ErrorNotice error={keys.error} />
      {newKey && (
        <div className="notice notice-ok" role="note" aria-label="New API key">
          <p>
            The key <strong>{newKey.name}</strong>, shown only now — copy it into the tool that uses
            it:
          </p>
          <p>
            <code className="key-hex">{newKey.key}</code>
          </p>
          <button type="button" onClick={dismiss}>
            I copied it
          </button>
        </div>
      )}
      {keys.value.length === 0 ? (
        <p className="muted">No API key yet.</p>
      ) : (
        <table className="data">
          <caption className="muted">Keys for scripts and CI (never the keys themselves)</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Starts with</th>
              <th scope="col">Scopes</th>
              <th scope="col">Expires</th>
              <th scope="col">Last used</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {keys.value.map((k) => (
              <tr key={k.id}>
                <td>{k.name}</td>
                <td>
                  <code>{k.prefix}</code>
                </td>
                <td>{k.scopes.join(', ')}</td>
                <td>{when(k.expiresAt)}</td>
                <td>{when(k.lastUsedAt)}</td>
                <td>
                  {k.revokedAt ? (
                    `Revoked ${when(k.revokedAt)}`
                  ) : (
                    <ConfirmDialog
                      trigger={
                        <button type="button" aria-label={`Revoke ${k.name}`}>
                          Revoke
                        </button>
                      }
                      title={`Revoke the key ${k.name}?`}
                      confirmLabel="Revoke"
                      onConfirm={() => void revoke(k.id)}
                    >
                      <p>Whatever uses it stops working at once.</p>
                    </ConfirmDialog>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form
        className="stack"
        aria-label="Make an API key"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          void create({ name: name.trim(), scopes, expiresInDays: days }).then(() => setName(''));
        }}
      >
        <div className="row wrap">
          <label>
            Name
            <input required value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <label>
            Expires in (days)
            <input
              type="number"
              min={1}
              max={3650}
              value={days}
              onChange={(e) => setDays(Number(e.target.value))}
            />
          </label>
        </div>
        <fieldset className="row wrap">
          <legend>Scopes</legend>
          {API_KEY_SCOPES.map((scope) => (
            <label key={scope}>
              <input
                type="checkbox"
                checked={scopes.includes(scope)}
                onChange={(e) =>
                  setScopes(
                    e.target.checked ? [...scopes, scope] : scopes.filter((s) => s !== scope),
                  )
                }
              />{' '}
              {scope}
            </label>
          ))}
        </fieldset>
        <div className="row">
          <button type="submit" className="primary">
            Make a key
          </button>
        </div>
      </form>
    </Section>
  );
}

function AuditSection() {
  const audit = useApp((s) => s.team.audit);
  const search = useApp((s) => s.team.searchAudit);
  const [event, setEvent] = useState('');
  return (
    <Section title="Audit log">
      <ErrorNotice error={audit.error} />
      <form
        className="row wrap"
        aria-label="Search the audit log"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          void search(event.trim() || undefined);
        }}
      >
        <label>
          Event
          <input
            placeholder="member.role_changed"
            value={event}
            onChange={(e) => setEvent(e.target.value)}
          />
        </label>
        <button type="submit">Search</button>
      </form>
      {audit.value.length === 0 ? (
        <p className="muted">No entry matches.</p>
      ) : (
        <table className="data">
          <caption className="muted">Newest first</caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Event</th>
              <th scope="col">Who</th>
              <th scope="col">What</th>
            </tr>
          </thead>
          <tbody>
            {audit.value.map((e, i) => (
              <tr key={e.seq ?? `pending-${i}`}>
                <td>{when(e.timestamp)}</td>
                <td>
                  <code>{e.event}</code>
                </td>
                <td>{e.actor.email ?? e.actor.id ?? '—'}</td>
                <td>
                  {e.resource.type} {e.resource.id ?? ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}

function SessionsSection() {
  const sessions = useApp((s) => s.team.sessions);
  const revoke = useApp((s) => s.team.revokeSession);
  return (
    <Section title="Your sessions">
      <ErrorNotice error={sessions.error} />
      <table className="data">
        <caption className="muted">Where you are signed in</caption>
        <thead>
          <tr>
            <th scope="col">Started</th>
            <th scope="col">Last used</th>
            <th scope="col">Ends</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {sessions.value.map((s) => (
            <tr key={s.id}>
              <td>{when(s.createdAt)}</td>
              <td>{when(s.lastSeenAt)}</td>
              <td>{when(s.expiresAt)}</td>
              <td>
                {s.current ? (
                  'This app'
                ) : (
                  <button
                    type="button"
                    aria-label={`End the session started ${when(s.createdAt)}`}
                    onClick={() => void revoke(s.id)}
                  >
                    End
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}

function QueueSection() {
  const queue = useApp((s) => s.team.queue);
  const retry = useApp((s) => s.team.retry);
  const discard = useApp((s) => s.team.discard);
  if (queue.value.length === 0) return null;
  return (
    <Section title="Queued changes">
      <p className="muted">
        Made while the server could not be reached; sent in order, each once, when it answers.
      </p>
      <ul className="stack" aria-label="Queued changes">
        {queue.value.map((item) => (
          <li key={item.seq} className="card">
            <div className="row spread">
              <strong>{item.action}</strong>
              <span>
                {item.state === 'failed' ? 'Refused by the server' : 'Waiting'} · queued{' '}
                {when(item.createdAt)}
              </span>
            </div>
            {!item.mine && (
              <p className="muted">Queued by another sign-in: sent when it signs in again.</p>
            )}
            {item.lastError && <p className="field-error">{item.lastError.message}</p>}
            <div className="row">
              {item.state === 'failed' && (
                <button type="button" onClick={() => void retry(item.seq)}>
                  Send again
                </button>
              )}
              <ConfirmDialog
                trigger={<button type="button">Drop</button>}
                title={`Drop the queued ${item.action}?`}
                confirmLabel="Drop"
                onConfirm={() => void discard(item.seq)}
              >
                <p>It will never be sent to the server.</p>
              </ConfirmDialog>
            </div>
          </li>
        ))}
      </ul>
    </Section>
  );
}
