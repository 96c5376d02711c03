import { useState } from 'react';
import { ErrorNotice } from '../../components/ErrorNotice.js';
import { JobProgress } from '../../components/JobProgress.js';
import { formatCount } from '../../components/format.js';
import { useApp } from '../../store/index.js';
import { useEffectOnce } from '../useEffectOnce.js';
import '../../styles/data.css';
import {
  blocker,
  confirmationFor,
  MODE_HELP,
  STEP_TITLES,
  STEPS,
  type RestoreMode,
} from './wizard.js';

/** Backup → selection → target → mode → dry run → type the project id → progress → report. */
export function RestoreScreen() {
  const step = useApp((s) => s.restore.step);
  const draft = useApp((s) => s.restore.draft);
  const plan = useApp((s) => s.restore.plan);
  const next = useApp((s) => s.restore.next);
  const back = useApp((s) => s.restore.back);
  const why = blocker(step, draft, plan.value);
  return (
    <div className="stack">
      <ol className="steps" aria-label="Restore steps">
        {STEPS.map((s, i) => (
          <li key={s} aria-current={s === step ? 'step' : undefined}>
            {i + 1}. {STEP_TITLES[s]}
          </li>
        ))}
      </ol>
      <section aria-label={STEP_TITLES[step]} className="stack">
        <h2>{STEP_TITLES[step]}</h2>
        {step === 'backup' && <BackupStep />}
        {step === 'selection' && <SelectionStep />}
        {step === 'target' && <TargetStep />}
        {step === 'mode' && <ModeStep />}
        {step === 'plan' && <PlanStep />}
        {step === 'confirm' && <ConfirmStep />}
        {step === 'progress' && <ProgressStep />}
      </section>
      {step !== 'progress' && (
        <div className="row">
          <button type="button" onClick={back} disabled={step === 'backup'}>
            Back
          </button>
          {step !== 'confirm' && (
            <button type="button" className="primary" onClick={next} disabled={why !== null}>
              Next
            </button>
          )}
          {why && <span className="muted">{why}</span>}
        </div>
      )}
    </div>
  );
}

function BackupStep() {
  const rows = useApp((s) => s.backups.rows);
  const load = useApp((s) => s.backups.load);
  const fromBackups = useApp((s) => s.backups.selected);
  const draft = useApp((s) => s.restore.draft);
  const choose = useApp((s) => s.restore.chooseBackup);
  useEffectOnce(() => {
    void load();
    // Opened from a backup's "Restore…": start with it.
    if (fromBackups && !draft.backupId)
      void choose(fromBackups.destinationId, fromBackups.backupId);
  });
  const value = draft.backupId ? `${draft.destinationId}|${draft.backupId}` : '';
  return (
    <>
      <ErrorNotice error={rows.error} />
      <label>
        Backup to restore
        <select
          value={value}
          onChange={(e) => {
            const [destinationId, backupId] = e.target.value.split('|');
            if (destinationId && backupId) void choose(destinationId, backupId);
          }}
        >
          <option value="">Choose a backup…</option>
          {rows.value.map((r) => (
            <option key={`${r.destinationId}|${r.id}`} value={`${r.destinationId}|${r.id}`}>
              {new Date(r.createdAt).toLocaleString()} · {r.project ?? '?'} · {r.id}
            </option>
          ))}
        </select>
      </label>
    </>
  );
}

function SelectionStep() {
  const collections = useApp((s) => s.restore.collections);
  const draft = useApp((s) => s.restore.draft);
  const setDraft = useApp((s) => s.restore.setDraft);
  const toggle = (id: string, on: boolean) =>
    setDraft({
      collections: on ? [...draft.collections, id] : draft.collections.filter((c) => c !== id),
    });
  return (
    <>
      <ErrorNotice error={collections.error} />
      {collections.loading && <p role="status">Reading the backup's collections…</p>}
      <fieldset>
        <legend>Root collections (none ticked: all of them)</legend>
        {collections.value.map((c) => (
          <label key={c.id} className="choice">
            <input
              type="checkbox"
              checked={draft.collections.includes(c.id)}
              onChange={(e) => toggle(c.id, e.target.checked)}
            />
            {c.id} <span className="muted">({formatCount(c.documents)} documents)</span>
          </label>
        ))}
      </fieldset>
      <label>
        Only these documents or collections (paths, comma-separated; optional)
        <textarea
          rows={2}
          value={draft.pathsText}
          onChange={(e) => setDraft({ pathsText: e.target.value })}
          placeholder="users/alice, orders"
        />
      </label>
    </>
  );
}

function TargetStep() {
  const target = useApp((s) => s.restore.draft.target);
  const setTarget = useApp((s) => s.restore.setTarget);
  const projects = useApp((s) => s.projects.list);
  const loadProjects = useApp((s) => s.projects.load);
  useEffectOnce(() => void loadProjects());
  return (
    <>
      <fieldset>
        <legend>Restore into</legend>
        {(
          [
            ['project', 'A project (the same one, or another)'],
            ['emulator', 'A Firestore emulator'],
            ['folder', 'A folder on this machine (plain NDJSON files)'],
          ] as const
        ).map(([kind, label]) => (
          <label key={kind} className="choice">
            <input
              type="radio"
              name="restore-target"
              checked={target.kind === kind}
              onChange={() => setTarget({ kind })}
            />
            {label}
          </label>
        ))}
      </fieldset>
      {target.kind === 'project' && (
        <label>
          Target project
          <select
            value={target.projectId}
            onChange={(e) => setTarget({ projectId: e.target.value })}
          >
            <option value="">Choose a project…</option>
            {projects.value.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name} ({p.firebaseProjectId})
              </option>
            ))}
          </select>
        </label>
      )}
      {target.kind === 'emulator' && (
        <div className="row wrap">
          <label>
            Emulator host
            <input value={target.host} onChange={(e) => setTarget({ host: e.target.value })} />
          </label>
          <label>
            Project id in the emulator
            <input
              value={target.firebaseProjectId}
              onChange={(e) => setTarget({ firebaseProjectId: e.target.value })}
            />
          </label>
        </div>
      )}
      {target.kind === 'folder' && (
        <label>
          Folder (new or empty)
          <input
            value={target.directory}
            onChange={(e) => setTarget({ directory: e.target.value })}
          />
        </label>
      )}
    </>
  );
}

function ModeStep() {
  const mode = useApp((s) => s.restore.draft.mode);
  const kind = useApp((s) => s.restore.draft.target.kind);
  const setDraft = useApp((s) => s.restore.setDraft);
  const modes: RestoreMode[] =
    kind === 'folder' ? ['create'] : ['create', 'overwrite', 'merge', 'mirror'];
  return (
    <fieldset>
      <legend>Restore mode</legend>
      {modes.map((m) => (
        <label key={m} className="choice">
          <input
            type="radio"
            name="restore-mode"
            checked={mode === m}
            onChange={() => setDraft({ mode: m })}
          />
          <strong>{m}</strong>: {MODE_HELP[m]}
        </label>
      ))}
    </fieldset>
  );
}

function PlanStep() {
  const plan = useApp((s) => s.restore.plan);
  const runPlan = useApp((s) => s.restore.runPlan);
  const p = plan.value;
  return (
    <>
      <p>
        The dry run verifies the backup, reads which documents the target already has, and writes
        nothing.
      </p>
      <button type="button" onClick={() => void runPlan()} disabled={plan.loading}>
        {p ? 'Run the dry run again' : 'Run the dry run'}
      </button>
      {plan.loading && <p role="status">Dry run under way…</p>}
      <ErrorNotice error={plan.error} />
      {p && (
        <section aria-label="Restore plan" className="stack">
          <p>
            Into <strong>{p.target}</strong>, mode <strong>{p.mode}</strong>:{' '}
            {formatCount(p.documents)} documents of the backup are selected.
          </p>
          <table className="data">
            <caption>What the restore would do</caption>
            <tbody>
              {(
                [
                  ['Create', p.planned.create],
                  ['Overwrite', p.planned.overwrite],
                  ['Merge into', p.planned.merge],
                  ['Skip (already there)', p.planned.skip],
                  ['Delete', p.planned.delete],
                ] as const
              ).map(([what, n]) => (
                <tr key={what}>
                  <th scope="row">{what}</th>
                  <td data-count={what}>{formatCount(n)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {p.planned.deletePaths.length > 0 && (
            <details>
              <summary>Documents that would be deleted</summary>
              <ul>
                {p.planned.deletePaths.map((d) => (
                  <li key={d}>
                    <code>{d}</code>
                  </li>
                ))}
              </ul>
            </details>
          )}
          <table className="data">
            <caption>Documents per collection</caption>
            <tbody>
              {p.collections.map((c) => (
                <tr key={c.collection}>
                  <th scope="row">{c.collection}</th>
                  <td>{formatCount(c.documents)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {Object.keys(p.otherSources).length > 0 && (
            <p className="muted">
              The backup also holds{' '}
              {Object.entries(p.otherSources)
                .map(([k, n]) => `${formatCount(n)} ${k}`)
                .join(', ')}
              ; into a project, only Firestore documents are restored from the app (use the CLI's
              restore --sources for the others).
            </p>
          )}
        </section>
      )}
    </>
  );
}

function ConfirmStep() {
  const plan = useApp((s) => s.restore.plan.value);
  const start = useApp((s) => s.restore.start);
  const error = useApp((s) => s.restore.startError);
  const [typed, setTyped] = useState('');
  if (!plan) return null;
  const expected = confirmationFor(plan);
  return (
    <form
      className="stack"
      onSubmit={(e) => {
        e.preventDefault();
        void start(typed);
      }}
    >
      <p>
        This writes into <strong>{plan.target}</strong>
        {plan.planned.delete > 0
          ? ` and deletes ${formatCount(plan.planned.delete)} documents`
          : ''}
        . Type <code>{expected}</code> to confirm.
      </p>
      <label>
        {plan.confirmWith ? 'Target project id' : 'Folder'}
        <input value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" />
      </label>
      <ErrorNotice error={error} />
      <button type="submit" className="danger" disabled={typed.trim() !== expected}>
        Restore now
      </button>
    </form>
  );
}

function ProgressStep() {
  const jobId = useApp((s) => s.restore.jobId);
  const job = useApp((s) => (jobId ? s.jobs.byId[jobId] : undefined));
  const reset = useApp((s) => s.restore.reset);
  const run = job?.run;
  if (!jobId) return null;
  return (
    <>
      <JobProgress jobId={jobId} label="Restore" />
      {run && run.status === 'succeeded' && (
        <section aria-label="Restore report" className="stack">
          <h3>Report</h3>
          <dl className="facts">
            {Object.entries(run.counts ?? {}).map(([k, n]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd>{formatCount(n)}</dd>
              </div>
            ))}
          </dl>
        </section>
      )}
      {run && (
        <button type="button" onClick={reset}>
          Start another restore
        </button>
      )}
    </>
  );
}
