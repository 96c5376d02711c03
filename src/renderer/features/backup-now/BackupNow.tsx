import { useId, useMemo } from 'react';
import { ErrorNotice } from '../../components/ErrorNotice.js';
import { JobProgress } from '../../components/JobProgress.js';
import { useApp } from '../../store/index.js';
import { isRunning } from '../../store/jobs.js';
import { useEffectOnce } from '../useEffectOnce.js';
import { setUpHere } from '../sync/abilities.js';
import { defaultDestination } from './choice.js';
import './backup-now.css';

/**
 * Loads what "Back up now" chooses from (destinations, and schedules for the default).
 * A screen showing <BackupNow> calls it once.
 */
export function useBackupNowChoices(): void {
  const loadDestinations = useApp((s) => s.destinations.load);
  const loadSchedules = useApp((s) => s.schedules.load);
  useEffectOnce(() => {
    void loadDestinations();
    void loadSchedules();
  });
}

/**
 * "Back up <project> now": the destination (a chooser only when there are several), the
 * button, then the shared job progress with Cancel; a start failure shows as an alert.
 */
export function BackupNow({ projectId, name }: { projectId: string; name: string }) {
  const listed = useApp((s) => s.destinations.list.value);
  const destinations = useMemo(() => setUpHere(listed), [listed]);
  const schedules = useApp((s) => s.schedules.list.value);
  const picked = useApp((s) => s.backupNow.pickedByProject[projectId]);
  const jobId = useApp((s) => s.backupNow.jobIdByProject[projectId]);
  const running = useApp((s) => isRunning(jobId ? s.jobs.byId[jobId] : undefined));
  const error = useApp((s) => s.backupNow.errorByProject[projectId] ?? null);
  const pick = useApp((s) => s.backupNow.pick);
  const start = useApp((s) => s.backupNow.start);
  const go = useApp((s) => s.nav.go);
  const selectId = useId();
  const chosen = defaultDestination(
    projectId,
    destinations.map((d) => d.id),
    schedules,
    picked,
  );
  if (!chosen) {
    return (
      <p className="muted">
        To back up {name}, first{' '}
        <button type="button" className="link" onClick={() => go('destinations')}>
          add a destination
        </button>
        .
      </p>
    );
  }
  return (
    <div className="stack">
      <div className="row">
        {destinations.length > 1 && (
          <>
            <label htmlFor={selectId}>
              Destination<span className="visually-hidden"> for {name}</span>
            </label>
            <select
              id={selectId}
              value={chosen}
              disabled={running}
              onChange={(e) => pick(projectId, e.target.value)}
            >
              {destinations.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name}
                </option>
              ))}
            </select>
          </>
        )}
        <button
          type="button"
          className="primary"
          disabled={running}
          onClick={() => void start(projectId, chosen)}
        >
          {/* Visible "Back up now", named "Back up <project> now" (the name holds the text). */}
          Back up<span className="visually-hidden"> {name}</span> now
        </button>
      </div>
      <ErrorNotice error={error} />
      {jobId && <JobProgress jobId={jobId} label="Backup" />}
    </div>
  );
}
