import { useEffect, useState } from 'react';
import { ErrorNotice } from '../../components/ErrorNotice.js';
import { JobProgress } from '../../components/JobProgress.js';
import { useApp } from '../../store/index.js';
import { DestinationForm } from '../destinations/DestinationsScreen.js';
import { LostKeyWarning, RecoveryKitButton } from '../keys/KeysScreen.js';
import { ProjectForm } from '../projects/ProjectsScreen.js';
import { FIRST_RUN_STEPS, STEP_TITLES, stepComplete, type FirstRunProgress } from './steps.js';

/**
 * From an empty catalog to a first verified backup: key (and its recovery kit), project,
 * destination, back up, verify. Each step says what it does; nothing to read first.
 */
export function FirstRunScreen() {
  const step = useApp((s) => s.firstRun.step);
  const advance = useApp((s) => s.firstRun.advance);
  const go = useApp((s) => s.nav.go);
  const progress = useFirstRunProgress();
  const complete = stepComplete(step, progress);
  const index = FIRST_RUN_STEPS.indexOf(step);
  return (
    <div className="stack">
      <ol className="steps" aria-label="Steps">
        {FIRST_RUN_STEPS.map((s, i) => (
          <li
            key={s}
            aria-current={s === step ? 'step' : undefined}
            className={i < index ? 'done' : undefined}
          >
            {i + 1}. {STEP_TITLES[s]}
          </li>
        ))}
      </ol>
      <section aria-labelledby="step-title" className="stack">
        <h2 id="step-title">{STEP_TITLES[step]}</h2>
        {step === 'key' && <KeyStep />}
        {step === 'project' && <ProjectStep />}
        {step === 'destination' && <DestinationStep />}
        {step === 'backup' && <BackupStep />}
        {step === 'verify' && <VerifyStep />}
        {step === 'done' && <DoneStep />}
      </section>
      {step !== 'done' && (
        <div className="row">
          <button type="button" className="primary" disabled={!complete} onClick={advance}>
            Continue
          </button>
          <button type="button" className="quiet" onClick={() => go('dashboard')}>
            Skip the guide
          </button>
        </div>
      )}
    </div>
  );
}

/** What the guide knows so far, from the slices (a job's status from its events). */
function useFirstRunProgress(): FirstRunProgress {
  const keyId = useApp((s) => s.keys.overview.value?.keys.find((k) => k.current)?.id ?? null);
  const kitSaved = useApp((s) => s.keys.kitSavedAt !== null);
  const projectId = useApp((s) => s.firstRun.projectId);
  const destinationId = useApp((s) => s.firstRun.destinationId);
  const backupStatus = useApp((s) =>
    s.firstRun.backupJobId ? (s.jobs.byId[s.firstRun.backupJobId]?.status ?? null) : null,
  );
  const verifyStatus = useApp((s) =>
    s.firstRun.verifyJobId ? (s.jobs.byId[s.firstRun.verifyJobId]?.status ?? null) : null,
  );
  return { keyId, kitSaved, projectId, destinationId, backupStatus, verifyStatus };
}

function KeyStep() {
  const overview = useApp((s) => s.keys.overview);
  const load = useApp((s) => s.keys.load);
  const generate = useApp((s) => s.keys.generate);
  const actionError = useApp((s) => s.keys.actionError);
  const kitSaved = useApp((s) => s.keys.kitSavedAt !== null);
  useEffect(() => void load(), [load]);
  const current = overview.value?.keys.find((k) => k.current);
  return (
    <div className="stack">
      <LostKeyWarning />
      <ErrorNotice error={overview.error ?? actionError} />
      {!current ? (
        <div className="row">
          <button type="button" className="primary" onClick={() => void generate()}>
            Make my key
          </button>
        </div>
      ) : (
        <>
          <p>
            Your key is <code>{current.id}</code>. Now save its recovery kit: it holds the key
            itself.
          </p>
          <div className="row">
            <RecoveryKitButton />
          </div>
          {kitSaved && (
            <p role="status" className="notice notice-ok">
              Recovery kit downloaded. Move it somewhere safe, away from this computer.
            </p>
          )}
        </>
      )}
    </div>
  );
}

function ProjectStep() {
  const chooseProject = useApp((s) => s.firstRun.chooseProject);
  const projectId = useApp((s) => s.firstRun.projectId);
  const project = useApp((s) => s.projects.list.value.find((p) => p.id === projectId));
  const test = useApp((s) => (projectId ? s.projects.tests[projectId] : undefined));
  const runTest = useApp((s) => s.projects.test);
  if (project) {
    return (
      <div className="stack">
        <p>
          Added <strong>{project.name}</strong> ({project.firebaseProjectId}).
        </p>
        {test?.state === 'ok' && (
          <p role="status" className="notice notice-ok">
            Connected: {test.rootCollections.length} collection(s) found.
          </p>
        )}
        {test?.state === 'failed' && (
          <ErrorNotice error={test.error} onRetry={() => void runTest(project.id)} />
        )}
      </div>
    );
  }
  return (
    <ProjectForm
      onAdded={(p) => {
        chooseProject(p.id);
        void runTest(p.id);
      }}
    />
  );
}

function DestinationStep() {
  const load = useApp((s) => s.destinations.load);
  const chooseDestination = useApp((s) => s.firstRun.chooseDestination);
  const destinationId = useApp((s) => s.firstRun.destinationId);
  const destination = useApp((s) => s.destinations.list.value.find((d) => d.id === destinationId));
  useEffect(() => void load(), [load]);
  if (destination) {
    return (
      <p>
        Backups will go to <strong>{destination.name}</strong> (<code>{destination.url}</code>).
      </p>
    );
  }
  return (
    <div className="stack">
      <p>A folder on this computer is ready to use; you can add cloud storage later.</p>
      <DestinationForm onDone={(d) => chooseDestination(d.id)} />
    </div>
  );
}

function BackupStep() {
  const jobId = useApp((s) => s.firstRun.backupJobId);
  const status = useApp((s) => (jobId ? s.jobs.byId[jobId]?.status : undefined));
  const backUp = useApp((s) => s.firstRun.backUp);
  const error = useApp((s) => s.jobs.error);
  const [starting, setStarting] = useState(false);
  const again = status === 'failed' || status === 'cancelled';
  return (
    <div className="stack">
      <ErrorNotice error={error} />
      {(!jobId || again) && (
        <div className="row">
          <button
            type="button"
            className="primary"
            disabled={starting}
            onClick={async () => {
              setStarting(true);
              await backUp();
              setStarting(false);
            }}
          >
            {again ? 'Try the backup again' : 'Back up now'}
          </button>
        </div>
      )}
      {jobId && <JobProgress jobId={jobId} label="Backup" />}
    </div>
  );
}

function VerifyStep() {
  const jobId = useApp((s) => s.firstRun.verifyJobId);
  const verify = useApp((s) => s.firstRun.verify);
  const status = useApp((s) => (jobId ? s.jobs.byId[jobId]?.status : undefined));
  const error = useApp((s) => s.jobs.error);
  return (
    <div className="stack">
      <p>
        Verifying reads the backup back from the destination and decrypts every part of it, so you
        know it can be restored.
      </p>
      <ErrorNotice error={error} />
      {(!jobId || status === 'failed' || status === 'cancelled') && (
        <div className="row">
          <button type="button" className="primary" onClick={() => void verify()}>
            Verify now
          </button>
        </div>
      )}
      {jobId && <JobProgress jobId={jobId} label="Verify" />}
    </div>
  );
}

function DoneStep() {
  const go = useApp((s) => s.nav.go);
  return (
    <div className="stack">
      <p role="status" className="notice notice-ok">
        Your first backup is made and verified. Add a schedule so it happens on its own.
      </p>
      <div className="row">
        <button type="button" className="primary" onClick={() => go('schedules')}>
          Set up a schedule
        </button>
        <button type="button" onClick={() => go('dashboard')}>
          Go to the dashboard
        </button>
      </div>
    </div>
  );
}
