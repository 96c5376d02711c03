import { zodResolver } from '@hookform/resolvers/zod';
import { useEffect, useMemo, useState } from 'react';
import { useForm } from 'react-hook-form';
import type { DestinationView } from '../../../shared/api/methods/destination-setup.js';
import type { Synced } from '../../../shared/api/methods/sync.js';
import {
  optionLabel,
  type DestinationKind,
  type OptionField,
} from '../../../shared/destination-forms.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { ErrorNotice } from '../../components/ErrorNotice.js';
import { Field } from '../../components/Field.js';
import { CardList, Section } from '../../components/Section.js';
import { useApp } from '../../store/index.js';
import { cleanOptions, destinationFormSchema, envNames, secretToSend } from './form.js';
import { DRAFT, type DestinationTest } from './slice.js';
import { SyncNotice, useCan, useOrgTitle } from '../sync/SyncNotice.js';

export function DestinationsScreen() {
  const list = useApp((s) => s.destinations.list);
  const kinds = useApp((s) => s.destinations.kinds);
  const load = useApp((s) => s.destinations.load);
  useEffect(() => void load(), [load]);
  const mayAdd = useCan('projects:manage');
  const title = useOrgTitle('Where backups go', (org) => `Destinations of ${org}`);
  return (
    <div className="stack">
      <SyncNotice list="destinations" loaded={list.value} />
      <ErrorNotice error={list.error ?? kinds.error} onRetry={() => void load()} />
      <Section title={title}>
        <CardList
          label="Destinations"
          items={list.value}
          loading={list.loading}
          empty="No destination yet. Add one below."
        >
          {(d) => <DestinationRow key={d.id} destination={d} />}
        </CardList>
      </Section>
      {mayAdd && (
        <Section title="Add a destination">
          <DestinationForm />
        </Section>
      )}
    </div>
  );
}

function TestOutcome({ test }: { test: DestinationTest | undefined }) {
  if (!test || test.state === 'running') return null;
  if (test.state === 'failed') return <ErrorNotice error={test.error} />;
  return (
    <p role="status" className="notice notice-ok">
      Test passed: FireBackup wrote, read back and deleted a test file in {test.displayUrl} (
      {test.latencyMs} ms).
    </p>
  );
}

function DestinationRow({ destination: d }: { destination: Synced<DestinationView> }) {
  const mayChange = useCan('projects:manage');
  // Another member's destination, not set up on this machine: nothing to test here.
  const here = d.origin?.where !== 'server';
  const test = useApp((s) => s.destinations.tests[d.id]);
  const runTest = useApp((s) => s.destinations.test);
  const remove = useApp((s) => s.destinations.remove);
  const [editing, setEditing] = useState(false);
  const options = Object.entries(d.options);
  const storedSecret = useApp((s) =>
    s.destinations.kinds.value.find((k) => k.kind === d.kind)?.fields.find((f) => f.stored),
  );
  return (
    <li className="card" aria-label={d.name}>
      <div className="row spread">
        <strong>{d.name}</strong>
        <span className="muted">
          {KIND_TAGS[d.kind] ?? d.kind}
          {here ? '' : ' · not set up on this machine'}
          {d.origin?.pending ? ' · not sent to the server yet' : ''}
        </span>
      </div>
      <dl className="facts">
        <dt>Location</dt>
        <dd>
          <code>{d.url}</code>
        </dd>
        {options.map(([k, v]) => (
          <div key={k} className="contents">
            <dt title={k}>{optionLabel(k)}</dt>
            <dd>{String(v)}</dd>
          </div>
        ))}
        {storedSecret && (
          <div className="contents">
            <dt title={storedSecret.name}>{optionLabel(storedSecret.name)}</dt>
            <dd>{d.secretSaved ? 'Saved (encrypted, never shown)' : 'Not saved'}</dd>
          </div>
        )}
      </dl>
      <div className="row">
        {here && (
          <button
            type="button"
            onClick={() => void runTest({ destinationId: d.id })}
            disabled={test?.state === 'running'}
            aria-label={`Test ${d.name}`}
          >
            {test?.state === 'running' ? 'Testing…' : 'Test'}
          </button>
        )}
        {mayChange && d.kind !== 'local' && (
          <button
            type="button"
            aria-expanded={editing}
            onClick={() => setEditing(!editing)}
            aria-label={`Edit ${d.name}`}
          >
            Edit
          </button>
        )}
        {mayChange && (
          <ConfirmDialog
            trigger={
              <button type="button" className="danger" aria-label={`Remove ${d.name}`}>
                Remove
              </button>
            }
            title={`Remove ${d.name}?`}
            confirmLabel="Remove destination"
            onConfirm={() => void remove(d.id)}
          >
            <p>
              FireBackup forgets this destination. The backups in it are not deleted: add it again
              to see and restore them.
            </p>
          </ConfirmDialog>
        )}
      </div>
      <TestOutcome test={test} />
      {editing && <DestinationForm existing={d} onDone={() => setEditing(false)} />}
    </li>
  );
}

/**
 * Add (or, with `existing`, edit the options of) a destination. The option inputs come from
 * the back end's schema (destinations.kinds). The kind's one stored secret (S3 secret
 * access key, GCS service-account key) is typed here and kept encrypted in the app's
 * SecretStore, never in the catalog; it is never shown again ("Saved", "Replace"). Other
 * secrets (a temporary session token) come from the environment, which the form names.
 */
export function DestinationForm({
  existing,
  onDone,
}: {
  existing?: DestinationView;
  onDone?: (d: DestinationView) => void;
}) {
  const kinds = useApp((s) => s.destinations.kinds.value);
  const [kindId, setKindId] = useState(existing?.kind ?? 'local');
  const kind = kinds.find((k) => k.kind === kindId);
  if (!kind) return <p className="muted">Loading the kinds of destination…</p>;
  return (
    <div className="stack">
      {!existing && (
        <div className="field">
          <label htmlFor="destination-kind">Kind</label>
          <select id="destination-kind" value={kindId} onChange={(e) => setKindId(e.target.value)}>
            {kinds.map((k) => (
              <option key={k.kind} value={k.kind}>
                {k.label}
              </option>
            ))}
          </select>
        </div>
      )}
      {/* A new form per kind: its fields and schema differ. */}
      <KindForm
        key={kind.kind}
        kind={kind}
        {...(existing ? { existing } : {})}
        {...(onDone ? { onDone } : {})}
      />
    </div>
  );
}

function KindForm({
  kind,
  existing,
  onDone,
}: {
  kind: DestinationKind;
  existing?: DestinationView;
  onDone?: (d: DestinationView) => void;
}) {
  const add = useApp((s) => s.destinations.add);
  const update = useApp((s) => s.destinations.update);
  const runTest = useApp((s) => s.destinations.test);
  const draftTest = useApp((s) => s.destinations.tests[DRAFT]);
  const actionError = useApp((s) => s.destinations.actionError);
  const clearError = useApp((s) => s.destinations.clearError);
  const schema = useMemo(() => destinationFormSchema(kind), [kind]);
  const editable = kind.fields.filter((f) => !f.secret);
  const storedSecret = kind.fields.find((f) => f.stored);
  const secrets = kind.fields.filter((f) => f.secret && !f.stored);
  // An edit keeps the saved secret unless the person chooses to replace it.
  const [replacing, setReplacing] = useState(!existing?.secretSaved);
  const defaults = {
    name: existing?.name ?? (kind.kind === 'local' ? 'This computer' : ''),
    url: existing?.url ?? kind.suggestedUrl ?? '',
    options: Object.fromEntries(
      editable.map((f) => [
        f.name,
        existing?.options[f.name] ?? (f.type === 'boolean' ? false : ''),
      ]),
    ),
    secret: '',
  };
  const {
    register,
    handleSubmit,
    getValues,
    trigger,
    formState: { errors, isSubmitting },
  } = useForm({ resolver: zodResolver(schema), defaultValues: defaults });
  const optionErrors = (errors.options ?? {}) as Record<string, { message?: string } | undefined>;

  const submit = handleSubmit(async (values) => {
    const options = cleanOptions(values.options as Record<string, unknown>);
    const { secret } = secretToSend(values.secret);
    if (existing) {
      if (await update(existing.id, options, secret)) onDone?.(existing);
      return;
    }
    const added = await add({
      name: values.name,
      url: values.url,
      options,
      ...secretToSend(secret),
    });
    if (added) onDone?.(added);
  });

  const testDraft = async () => {
    if (!(await trigger())) return;
    const parsed = schema.parse(getValues());
    await runTest({
      url: parsed.url,
      options: cleanOptions(parsed.options as Record<string, unknown>),
      ...secretToSend(parsed.secret),
    });
  };

  return (
    <form
      className="stack"
      onSubmit={(e) => void submit(e)}
      aria-label={existing ? `Edit ${existing.name}` : 'Add a destination'}
      noValidate
    >
      {!existing && (
        <>
          <Field label="Name" error={errors.name?.message} {...register('name')} />
          <Field
            label={kind.kind === 'local' ? 'Folder' : 'Location'}
            hint={
              kind.kind === 'local'
                ? 'The full path of a folder; it is created if needed.'
                : `e.g. ${kind.example}`
            }
            error={errors.url?.message}
            {...register('url')}
          />
        </>
      )}
      {editable.map((f) => (
        <OptionInput
          key={f.name}
          field={f}
          error={optionErrors[f.name]?.message}
          register={register}
        />
      ))}
      {storedSecret &&
        (replacing ? (
          <Field
            label={optionLabel(storedSecret.name)}
            hint={`${storedSecret.description} Kept encrypted by your system's keychain, never in the catalog or settings; never shown again. Environment variables, when set, win.`}
            // A key file's JSON is pasted into a text area (which has no password mode).
            {...(kind.kind === 'gs' ? { multiline: true } : { type: 'password' })}
            autoComplete="off"
            spellCheck={false}
            {...register('secret')}
          />
        ) : (
          <div className="row">
            <span>
              {optionLabel(storedSecret.name)}: <strong>saved</strong> (encrypted, never shown)
            </span>
            <button type="button" onClick={() => setReplacing(true)}>
              Replace {lowerFirst(optionLabel(storedSecret.name))}
            </button>
          </div>
        ))}
      {secrets.length > 0 && (
        <div className="notice notice-warning">
          <p>
            These secrets are not kept by FireBackup. Give them to the process that runs backups
            through its environment:
          </p>
          <ul>
            {secrets.map((f) => (
              <li key={f.name}>
                {optionLabel(f.name)}: {envNames(f.description).join(' or ') || f.description}
              </li>
            ))}
          </ul>
        </div>
      )}
      <ErrorNotice error={actionError} onDismiss={clearError} />
      {!existing && draftTest?.state !== 'running' && <TestOutcome test={draftTest} />}
      <div className="row">
        {!existing && (
          <button
            type="button"
            onClick={() => void testDraft()}
            disabled={draftTest?.state === 'running'}
          >
            {draftTest?.state === 'running' ? 'Testing…' : 'Test'}
          </button>
        )}
        <button type="submit" className="primary" disabled={isSubmitting}>
          {existing ? 'Save options' : 'Add destination'}
        </button>
      </div>
    </form>
  );
}

function OptionInput({
  field: f,
  error,
  register,
}: {
  field: OptionField;
  error: string | undefined;
  // react-hook-form's register for a dynamic path: typed loosely on purpose.
  register: (name: never) => object;
}) {
  const name = `options.${f.name}` as never;
  if (f.type === 'boolean') {
    return (
      <label className="choice">
        <input type="checkbox" {...register(name)} />
        {optionLabel(f.name)} <span className="field-hint">— {f.description}</span>
      </label>
    );
  }
  return (
    <Field
      label={optionLabel(f.name)}
      hint={f.description}
      error={error}
      inputMode={f.type === 'string' ? undefined : 'numeric'}
      {...register(name)}
    />
  );
}

/** "Secret access key" inside a sentence: "Replace secret access key" (initials kept). */
function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** The short name of each kind on a destination's card (the form's list spells them out). */
const KIND_TAGS: Record<string, string> = { local: 'Folder', s3: 'S3', gs: 'Cloud Storage' };
