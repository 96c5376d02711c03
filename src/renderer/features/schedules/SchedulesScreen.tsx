import { useEffect, useId, useMemo } from 'react';
import type { Schedule } from '../../../shared/schedules.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { ErrorNotice } from '../../components/ErrorNotice.js';
import { useApp } from '../../store/index.js';
import { useEffectOnce } from '../useEffectOnce.js';
import '../../styles/data.css';
import { CRON_PRESETS, describeCron, presetOf, timeZones } from './cron.js';
import { draftProblems, type ScheduleDraft } from './draft.js';
import { setUpHere } from '../sync/abilities.js';
import { SyncNotice, useCan, useOrgTitle } from '../sync/SyncNotice.js';

/** Schedules: the list with pause/resume/remove, and the editor (cron, zone, retention, verify). */
export function SchedulesScreen() {
  const list = useApp((s) => s.schedules.list);
  const load = useApp((s) => s.schedules.load);
  const edit = useApp((s) => s.schedules.edit);
  const draft = useApp((s) => s.schedules.draft);
  const actionError = useApp((s) => s.schedules.actionError);
  const warning = useApp((s) => s.schedules.warning);
  const loadProjects = useApp((s) => s.projects.load);
  const loadDestinations = useApp((s) => s.destinations.load);
  useEffectOnce(() => {
    void load();
    void loadProjects();
    void loadDestinations();
  });
  const mayManage = useCan('schedules:manage');
  return (
    <div className="stack">
      <SyncNotice list="schedules" loaded={list.value} />
      {mayManage && (
        <div className="row">
          <button type="button" className="primary" onClick={() => edit(null)}>
            New schedule
          </button>
        </div>
      )}
      <ErrorNotice error={list.error ?? actionError} />
      {warning && (
        <p className="notice notice-warning" role="status">
          {warning}
        </p>
      )}
      {draft && <ScheduleEditor />}
      <ScheduleTable schedules={list.value} />
    </div>
  );
}

function ScheduleTable({ schedules }: { schedules: Schedule[] }) {
  const edit = useApp((s) => s.schedules.edit);
  const setEnabled = useApp((s) => s.schedules.setEnabled);
  const remove = useApp((s) => s.schedules.remove);
  const mayManage = useCan('schedules:manage');
  const caption = useOrgTitle('Schedules', (org) => `Schedules of ${org}`);
  if (schedules.length === 0) return <p className="muted">No schedules yet.</p>;
  return (
    <table className="data">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">When</th>
          <th scope="col">Kind</th>
          <th scope="col">State</th>
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody>
        {schedules.map((s) => (
          <tr key={s.id}>
            <th scope="row">{s.name}</th>
            <td>
              {describeCron(s.cron).text} <span className="muted">({s.timeZone})</span>
            </td>
            <td>{s.kind}</td>
            <td>{s.enabled ? 'Active' : 'Paused'}</td>
            <td className="row">
              {mayManage ? (
                <>
                  <button type="button" onClick={() => edit(s)} aria-label={`Edit ${s.name}`}>
                    Edit
                  </button>
                  <button
                    type="button"
                    onClick={() => void setEnabled(s.id, !s.enabled)}
                    aria-label={`${s.enabled ? 'Pause' : 'Resume'} ${s.name}`}
                  >
                    {s.enabled ? 'Pause' : 'Resume'}
                  </button>
                  <ConfirmDialog
                    trigger={
                      <button type="button" className="danger" aria-label={`Remove ${s.name}`}>
                        Remove
                      </button>
                    }
                    title={`Remove schedule ${s.name}?`}
                    confirmLabel="Remove schedule"
                    onConfirm={() => void remove(s.id)}
                  >
                    <p>It stops running. Its backups and its run history are kept.</p>
                  </ConfirmDialog>
                </>
              ) : (
                <span className="muted">View only</span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ScheduleEditor() {
  const draft = useApp((s) => s.schedules.draft)!;
  const setDraft = useApp((s) => s.schedules.setDraft);
  const save = useApp((s) => s.schedules.save);
  const close = useApp((s) => s.schedules.close);
  const previewRuns = useApp((s) => s.schedules.previewRuns);
  const nextRuns = useApp((s) => s.schedules.nextRuns);
  // A schedule runs on this machine: its project and destination must be set up here.
  const allProjects = useApp((s) => s.projects.list.value);
  const allDestinations = useApp((s) => s.destinations.list.value);
  const projects = useMemo(() => setUpHere(allProjects), [allProjects]);
  const destinations = useMemo(() => setUpHere(allDestinations), [allDestinations]);
  const zones = useMemo(timeZones, []);
  const id = useId();
  const problems = draftProblems(draft);
  const description = describeCron(draft.cron);
  // The next runs follow the expression and the zone as they are typed.
  useEffect(() => {
    if (description.ok) void previewRuns();
  }, [draft.cron, draft.timeZone, description.ok, previewRuns]);
  const field = (name: keyof ScheduleDraft) =>
    problems[name] ? { 'aria-invalid': true, 'aria-describedby': `${id}-${name}` } : {};
  const problem = (name: keyof ScheduleDraft) =>
    problems[name] ? (
      <span id={`${id}-${name}`} className="field-error">
        {problems[name]}
      </span>
    ) : null;
  return (
    <form
      className="card stack"
      aria-label={draft.id ? `Edit schedule ${draft.name}` : 'New schedule'}
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <h2>{draft.id ? `Edit ${draft.name}` : 'New schedule'}</h2>
      <div className="row wrap">
        <label>
          Name
          <input
            value={draft.name}
            onChange={(e) => setDraft({ name: e.target.value })}
            {...field('name')}
          />
          {problem('name')}
        </label>
        <label>
          Kind
          <select
            value={draft.kind}
            onChange={(e) => setDraft({ kind: e.target.value as ScheduleDraft['kind'] })}
          >
            <option value="backup">Back up</option>
            <option value="verify">Verify old backups</option>
            <option value="check">Check the whole destination</option>
          </select>
        </label>
        <label>
          Project
          <select
            value={draft.projectId}
            onChange={(e) => setDraft({ projectId: e.target.value })}
            {...field('projectId')}
          >
            <option value="">Choose…</option>
            {projects.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
          {problem('projectId')}
        </label>
        <label>
          Destination
          <select
            value={draft.destinationId}
            onChange={(e) => setDraft({ destinationId: e.target.value })}
            {...field('destinationId')}
          >
            <option value="">Choose…</option>
            {destinations.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
          {problem('destinationId')}
        </label>
      </div>
      <fieldset>
        <legend>When</legend>
        <div className="row wrap">
          <label>
            Preset
            <select
              value={presetOf(draft.cron)}
              onChange={(e) => e.target.value && setDraft({ cron: e.target.value })}
            >
              <option value="">Custom</option>
              {CRON_PRESETS.map((p) => (
                <option key={p.cron} value={p.cron}>
                  {p.label}
                </option>
              ))}
            </select>
          </label>
          <label>
            Cron expression
            <input
              value={draft.cron}
              onChange={(e) => setDraft({ cron: e.target.value })}
              aria-describedby={`${id}-cron-text`}
              aria-invalid={!description.ok}
              spellCheck={false}
            />
          </label>
          <label>
            Time zone
            <input
              list={`${id}-zones`}
              value={draft.timeZone}
              onChange={(e) => setDraft({ timeZone: e.target.value })}
            />
            <datalist id={`${id}-zones`}>
              {zones.map((z) => (
                <option key={z} value={z} />
              ))}
            </datalist>
          </label>
        </div>
        <p id={`${id}-cron-text`} className={description.ok ? '' : 'field-error'}>
          {description.text}
        </p>
        <ErrorNotice error={nextRuns.error} />
        <ol aria-label="Next five runs">
          {nextRuns.value.map((r) => (
            <li key={r.at}>
              <time dateTime={r.at}>{r.local}</time>
            </li>
          ))}
        </ol>
      </fieldset>
      <RetentionEditor problem={problem} field={field} />
      <fieldset>
        <legend>Verify after each backup</legend>
        <div className="row wrap">
          <label>
            Verification
            <select
              value={draft.verify}
              onChange={(e) => setDraft({ verify: e.target.value as ScheduleDraft['verify'] })}
            >
              <option value="full">Every backup, in full</option>
              <option value="sample">A share of backups in full, the rest by digest</option>
              <option value="none">None</option>
            </select>
          </label>
          {draft.verify === 'sample' && (
            <label>
              Share verified in full
              <input
                inputMode="decimal"
                value={draft.sampleFraction}
                onChange={(e) => setDraft({ sampleFraction: e.target.value })}
                {...field('sampleFraction')}
              />
              {problem('sampleFraction')}
            </label>
          )}
        </div>
      </fieldset>
      <label className="choice">
        <input
          type="checkbox"
          checked={draft.enabled}
          onChange={(e) => setDraft({ enabled: e.target.checked })}
        />
        Active (runs on its timetable)
      </label>
      <div className="row">
        <button type="submit" className="primary" disabled={Object.keys(problems).length > 0}>
          Save schedule
        </button>
        <button type="button" onClick={close}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function RetentionEditor({
  problem,
  field,
}: {
  problem: (name: keyof ScheduleDraft) => React.ReactNode;
  field: (name: keyof ScheduleDraft) => object;
}) {
  const draft = useApp((s) => s.schedules.draft)!;
  const setDraft = useApp((s) => s.schedules.setDraft);
  const preview = useApp((s) => s.schedules.retention);
  const previewRetention = useApp((s) => s.schedules.previewRetention);
  const rules = [
    ['keepLast', 'Keep the last'],
    ['keepDaily', 'Daily backups kept'],
    ['keepWeekly', 'Weekly backups kept'],
    ['keepMonthly', 'Monthly backups kept'],
  ] as const;
  const p = preview.value;
  return (
    <fieldset>
      <legend>Retention (empty everywhere: keep every backup)</legend>
      <div className="row wrap">
        {rules.map(([name, label]) => (
          <label key={name}>
            {label}
            <input
              inputMode="numeric"
              size={4}
              value={draft[name]}
              onChange={(e) => setDraft({ [name]: e.target.value })}
              {...field(name)}
            />
            {problem(name)}
          </label>
        ))}
        <button
          type="button"
          onClick={() => void previewRetention()}
          disabled={!draft.id && (!draft.projectId || !draft.destinationId)}
        >
          Preview what is kept
        </button>
      </div>
      <ErrorNotice error={preview.error} />
      {p && (
        <section aria-label="Retention preview" className="stack">
          <p className="muted">Considering {p.scope}.</p>
          <p role="status">
            {p.keep.length} kept, {p.prune.length} would be deleted
            {p.emptyIgnored.length ? `, ${p.emptyIgnored.length} empty ones left alone` : ''}.
          </p>
          <ul aria-label="Kept backups">
            {p.keep.map((k) => (
              <li key={k.id}>
                {new Date(k.createdAt).toLocaleString()} — kept ({k.reasons.join(', ')})
              </li>
            ))}
          </ul>
          <ul aria-label="Backups that would be deleted">
            {p.prune.map((k) => (
              <li key={k.id}>{new Date(k.createdAt).toLocaleString()} — would be deleted</li>
            ))}
          </ul>
        </section>
      )}
    </fieldset>
  );
}
