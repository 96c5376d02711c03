import { useMemo, useState } from 'react';
import { SOURCE_COUNT_KEYS, SOURCE_LABELS } from '../../../shared/api/methods/restore.js';
import { ErrorNotice } from '../../components/ErrorNotice.js';
import { JobProgress } from '../../components/JobProgress.js';
import { formatCount } from '../../components/format.js';
import { useApp } from '../../store/index.js';
import { setUpHere } from '../sync/abilities.js';
import { useEffectOnce } from '../useEffectOnce.js';
import '../../styles/data.css';
import {
  blocker,
  chosenSources,
  confirmationFor,
  MODE_HELP,
  STEP_TITLES,
  STEPS,
  toggleSource,
  type RestoreMode,
  type SourceName,
} from './wizard.js';

/** The unit each source's count is in. */
const UNITS: Record<SourceName, string> = {
  firestore: 'documents',
  auth: 'users',
  rtdb: 'records',
  storage: 'files',
};

/** The sources the backup holds and those ticked (all of them until the user unticks one). */
function useSources() {
  const held = useApp((s) => s.restore.held.value);
  const draft = useApp((s) => s.restore.draft);
  const chosen = chosenSources(draft, held.sources);
  return { held, chosen, has: (s: SourceName) => chosen.includes(s) };
}

/** Backup → selection → target → mode → dry run → type the project id → progress → report. */
export function RestoreScreen() {
  const step = useApp((s) => s.restore.step);
  const draft = useApp((s) => s.restore.draft);
  const plan = useApp((s) => s.restore.plan);
  const next = useApp((s) => s.restore.next);
  const back = useApp((s) => s.restore.back);
  const held = useApp((s) => s.restore.held.value.sources);
  const why = blocker(step, draft, plan.value, held);
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
  const heldState = useApp((s) => s.restore.held);
  const draft = useApp((s) => s.restore.draft);
  const setDraft = useApp((s) => s.restore.setDraft);
  const { held, has } = useSources();
  const toggle = (id: string, on: boolean) =>
    setDraft({
      collections: on ? [...draft.collections, id] : draft.collections.filter((c) => c !== id),
    });
  return (
    <>
      <ErrorNotice error={heldState.error} />
      <fieldset>
        <legend>Sources (every source the backup holds, unless unticked)</legend>
        {held.sources.map((source) => (
          <label key={source} className="choice">
            <input
              type="checkbox"
              checked={has(source)}
              onChange={(e) =>
                setDraft({ sources: toggleSource(draft, held.sources, source, e.target.checked) })
              }
            />
            {SOURCE_LABELS[source]}{' '}
            {held.counts[SOURCE_COUNT_KEYS[source]] !== undefined && (
              <span className="muted">
                ({formatCount(held.counts[SOURCE_COUNT_KEYS[source]]!)} {UNITS[source]})
              </span>
            )}
          </label>
        ))}
      </fieldset>
      {has('firestore') && (
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
      )}
      {has('rtdb') && (
        <label>
          Into a project, only these Realtime Database paths (comma-separated; optional, default:
          whole trees)
          <input
            value={draft.rtdbPathsText}
            onChange={(e) => setDraft({ rtdbPathsText: e.target.value })}
            placeholder="/users, /rooms/lobby"
          />
        </label>
      )}
    </>
  );
}

/** Where Auth, RTDB and Storage go, when they are restored into a project. */
function OtherTargets() {
  const draft = useApp((s) => s.restore.draft);
  const setDraft = useApp((s) => s.restore.setDraft);
  const { has } = useSources();
  if (!has('auth') && !has('rtdb') && !has('storage')) return null;
  return (
    <fieldset className="stack">
      <legend>Other sources (optional)</legend>
      {has('storage') && (
        <label>
          Storage bucket to write the files into
          <input
            value={draft.toBucket}
            onChange={(e) => setDraft({ toBucket: e.target.value })}
            placeholder="default: their own buckets (same project), else the target's default bucket"
          />
        </label>
      )}
      {has('rtdb') && (
        <label>
          Realtime Database instance to write into
          <input
            value={draft.toRtdbInstance}
            onChange={(e) => setDraft({ toRtdbInstance: e.target.value })}
            placeholder="default: the target's default instance (others: the same name)"
          />
        </label>
      )}
      {has('auth') && (
        <label>
          Auth tenant map (archived=target, comma-separated)
          <input
            value={draft.tenantMapText}
            onChange={(e) => setDraft({ tenantMapText: e.target.value })}
            placeholder="default: each tenant into the tenant of the same id"
          />
        </label>
      )}
    </fieldset>
  );
}

function TargetStep() {
  const target = useApp((s) => s.restore.draft.target);
  const setTarget = useApp((s) => s.restore.setTarget);
  const projects = useApp((s) => s.projects.list);
  // A restore runs here: into a project set up on this machine.
  const targets = useMemo(() => setUpHere(projects.value), [projects.value]);
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
            {targets.map((p) => (
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
      {target.kind !== 'folder' && <OtherTargets />}
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
      <p className="muted">
        The mode applies to every source ticked: users, Realtime Database nodes and files are
        created, overwritten or (users) merged like documents; Storage has no merge (a merged file
        is overwritten); mirror is for Firestore documents only.
      </p>
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
          <table className="data" aria-label="Per source">
            <caption>Per source</caption>
            <thead>
              <tr>
                <th scope="col">Source</th>
                <th scope="col">In the backup</th>
                <th scope="col">Create</th>
                <th scope="col">Overwrite</th>
                <th scope="col">Merge into</th>
                <th scope="col">Skip</th>
              </tr>
            </thead>
            <tbody>
              {p.sources.map((s) => (
                <tr key={s.source} data-source={s.source}>
                  <th scope="row">{SOURCE_LABELS[s.source]}</th>
                  <td>
                    {formatCount(s.items)} {UNITS[s.source]}
                  </td>
                  {s.planned ? (
                    (['create', 'overwrite', 'merge', 'skip'] as const).map((k) => (
                      <td key={k}>{formatCount(s.planned![k])}</td>
                    ))
                  ) : (
                    <td colSpan={4} className="muted">
                      not restored (unticked)
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
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
