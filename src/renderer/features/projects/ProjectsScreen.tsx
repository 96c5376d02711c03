import { zodResolver } from '@hookform/resolvers/zod';
import { useEffect, useState } from 'react';
import { useForm } from 'react-hook-form';
import type { ProjectView } from '../../../shared/api/methods/projects.js';
import type { Synced } from '../../../shared/api/methods/sync.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { ErrorNotice } from '../../components/ErrorNotice.js';
import { Field } from '../../components/Field.js';
import { CardList, Section } from '../../components/Section.js';
import { useApp } from '../../store/index.js';
import { BackupNow, useBackupNowChoices } from '../backup-now/BackupNow.js';
import { SyncNotice, useCan, useOrgTitle } from '../sync/SyncNotice.js';
import {
  EMPTY_PROJECT_FORM,
  ProjectFormSchema,
  toProjectAdd,
  type ProjectFormValues,
} from './form.js';

const CONNECTION_LABELS: Record<ProjectView['connection'], string> = {
  emulator: 'Emulator',
  'service-account': 'Service account',
  'default-credentials': 'Default credentials',
};

export function ProjectsScreen() {
  const list = useApp((s) => s.projects.list);
  const load = useApp((s) => s.projects.load);
  useEffect(() => void load(), [load]);
  useBackupNowChoices();
  const mayAdd = useCan('projects:manage');
  const title = useOrgTitle('Your projects', (org) => `Projects of ${org}`);
  return (
    <div className="stack">
      <SyncNotice list="projects" loaded={list.value} />
      <ErrorNotice error={list.error} onRetry={() => void load()} />
      <Section title={title}>
        <CardList
          label="Projects"
          items={list.value}
          loading={list.loading}
          empty="No project yet. Add one below."
        >
          {(p) => <ProjectRow key={p.id} project={p} />}
        </CardList>
      </Section>
      {mayAdd && (
        <Section title="Add a project">
          <ProjectForm />
        </Section>
      )}
    </div>
  );
}

function ProjectRow({ project: p }: { project: Synced<ProjectView> }) {
  const test = useApp((s) => s.projects.tests[p.id]);
  const runTest = useApp((s) => s.projects.test);
  const remove = useApp((s) => s.projects.remove);
  const mayRemove = useCan('projects:manage');
  const mayBackUp = useCan('backups:create');
  // Another member's project, not set up on this machine: nothing to test or back up here.
  const here = p.origin?.where !== 'server';
  return (
    <li className="card" aria-label={p.name}>
      <div className="row spread">
        <strong>{p.name}</strong>
        <span className="muted">
          {here ? CONNECTION_LABELS[p.connection] : 'Not set up on this machine'}
          {p.origin?.pending ? ' · not sent to the server yet' : ''}
        </span>
      </div>
      <dl className="facts">
        <dt>Firebase project</dt>
        <dd>{p.firebaseProjectId}</dd>
        <dt>Database</dt>
        <dd>{p.databaseId}</dd>
        {p.emulatorHost && (
          <>
            <dt>Emulator</dt>
            <dd>{p.emulatorHost}</dd>
          </>
        )}
        {p.serviceAccountEmail && (
          <>
            <dt>Service account</dt>
            <dd>{p.serviceAccountEmail}</dd>
          </>
        )}
      </dl>
      <div className="row">
        {here && (
          <button
            type="button"
            onClick={() => void runTest(p.id)}
            disabled={test?.state === 'running'}
            aria-label={`Test connection to ${p.name}`}
          >
            {test?.state === 'running' ? 'Testing…' : 'Test connection'}
          </button>
        )}
        {mayRemove && (
          <ConfirmDialog
            trigger={
              <button type="button" className="danger" aria-label={`Remove ${p.name}`}>
                Remove
              </button>
            }
            title={`Remove ${p.name}?`}
            confirmLabel="Remove project"
            onConfirm={() => void remove(p.id)}
          >
            <p>
              FireBackup stops knowing this project. Its backups stay where they are and can still
              be restored.
            </p>
          </ConfirmDialog>
        )}
      </div>
      {test?.state === 'ok' && (
        <p role="status" className="notice notice-ok">
          Connected in {test.latencyMs} ms.{' '}
          {test.rootCollections.length === 0
            ? 'The database has no collections yet.'
            : `Collections: ${test.rootCollections.join(', ')}.`}
        </p>
      )}
      {test?.state === 'failed' && <ErrorNotice error={test.error} />}
      {here && mayBackUp && <BackupNow projectId={p.id} name={p.name} />}
    </li>
  );
}

/** The add form; `onAdded` lets the first-run guide move on. */
export function ProjectForm({ onAdded }: { onAdded?: (p: ProjectView) => void }) {
  const add = useApp((s) => s.projects.add);
  const actionError = useApp((s) => s.projects.actionError);
  const clearError = useApp((s) => s.projects.clearError);
  const [fileName, setFileName] = useState<string | null>(null);
  const {
    register,
    handleSubmit,
    watch,
    setValue,
    reset,
    formState: { errors, isSubmitting },
  } = useForm<ProjectFormValues>({
    resolver: zodResolver(ProjectFormSchema),
    defaultValues: EMPTY_PROJECT_FORM,
  });
  const kind = watch('connectionKind');

  const submit = handleSubmit(async (values) => {
    const added = await add(toProjectAdd(values));
    if (added) {
      reset(EMPTY_PROJECT_FORM);
      setFileName(null);
      onAdded?.(added);
    }
  });

  return (
    <form className="stack" onSubmit={(e) => void submit(e)} aria-label="Add a project" noValidate>
      <Field
        label="Name"
        hint="How FireBackup shows it, e.g. Shop (production)"
        error={errors.name?.message}
        {...register('name')}
      />
      <Field
        label="Firebase project id"
        hint="As shown in the Firebase console, e.g. my-app-123"
        error={errors.firebaseProjectId?.message}
        {...register('firebaseProjectId')}
      />
      <Field label="Database id" error={errors.databaseId?.message} {...register('databaseId')} />
      <fieldset>
        <legend>Connect with</legend>
        <label className="choice">
          <input type="radio" value="emulator" {...register('connectionKind')} />
          The Firestore emulator on this machine
        </label>
        <label className="choice">
          <input type="radio" value="service-account" {...register('connectionKind')} />A
          service-account key file
        </label>
        <label className="choice">
          <input type="radio" value="default-credentials" {...register('connectionKind')} />
          This machine&apos;s Google credentials (gcloud / GOOGLE_APPLICATION_CREDENTIALS)
        </label>
      </fieldset>
      {kind === 'emulator' && (
        <Field
          label="Emulator address"
          hint="host:port of the Firestore emulator"
          error={errors.emulatorHost?.message}
          {...register('emulatorHost')}
        />
      )}
      {kind === 'service-account' && (
        <div className="stack">
          <div className="field">
            <label htmlFor="sa-file">Service-account key file</label>
            <input
              id="sa-file"
              type="file"
              accept="application/json,.json"
              aria-describedby="sa-file-hint"
              onChange={async (e) => {
                const file = e.target.files?.[0];
                if (!file) return;
                setFileName(file.name);
                setValue('serviceAccountJson', await file.text(), { shouldValidate: true });
              }}
            />
            <span id="sa-file-hint" className="field-hint">
              {fileName
                ? `Chosen: ${fileName}. It is kept in a private file on this machine and never shown again.`
                : 'Google Cloud console → IAM → Service accounts → Keys → Add key (JSON).'}
            </span>
            {errors.serviceAccountJson?.message && (
              <span className="field-error">{errors.serviceAccountJson.message}</span>
            )}
          </div>
        </div>
      )}
      <ErrorNotice error={actionError} onDismiss={clearError} />
      <div className="row">
        <button type="submit" className="primary" disabled={isSubmitting}>
          {isSubmitting ? 'Adding…' : 'Add project'}
        </button>
      </div>
    </form>
  );
}
