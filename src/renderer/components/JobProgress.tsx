import { useApp } from '../store/index.js';
import { isRunning } from '../store/jobs.js';
import { ErrorNotice } from './ErrorNotice.js';
import { formatBytes, formatCount, formatDuration, formatRate, fractionDone } from './format.js';

/**
 * Progress of one job, fed by `job` events: phase, counts, bytes, rate, ETA and a cancel
 * button while it runs; its final status (and error, as data) once it ends. Labelled
 * `<label> progress` (e.g. "Backup progress") so tests and screen readers find it.
 */
export function JobProgress({ jobId, label }: { jobId: string; label?: string }) {
  const job = useApp((s) => s.jobs.byId[jobId]);
  const cancel = useApp((s) => s.jobs.cancel);
  if (!job) return null;
  const name = label ?? (job.kind ? job.kind[0]!.toUpperCase() + job.kind.slice(1) : 'Job');
  const p = job.progress;
  const fraction = p ? fractionDone(p.items, p.itemsTotal) : undefined;
  const running = isRunning(job);
  return (
    <section className="job-progress" aria-label={`${name} progress`} data-status={job.status}>
      <div className="row spread">
        <strong>{name}</strong>
        <span role="status" aria-live="polite">
          {statusText(job.status, p?.phase)}
        </span>
      </div>
      {running && (
        <progress
          aria-label={`${name} progress bar`}
          max={1}
          {...(fraction === undefined ? {} : { value: fraction })}
        />
      )}
      {p && (
        <dl className="facts">
          <dt>Items</dt>
          <dd>
            {formatCount(p.items)}
            {p.itemsTotal !== undefined ? ` of ${formatCount(p.itemsTotal)}` : ''}
          </dd>
          <dt>Data</dt>
          <dd>{formatBytes(p.bytes)}</dd>
          <dt>Rate</dt>
          <dd>
            {formatRate(p.itemsPerSecond, p.unit ?? 'items')} · {formatBytes(p.bytesPerSecond)}/s
          </dd>
          <dt>Time left</dt>
          <dd>{p.etaSeconds === undefined ? 'unknown' : formatDuration(p.etaSeconds)}</dd>
        </dl>
      )}
      {running && (
        <button type="button" className="danger" onClick={() => void cancel(job.id)}>
          Cancel {name.toLowerCase()}
        </button>
      )}
      <ErrorNotice error={job.status === 'cancelled' ? null : job.error} />
    </section>
  );
}

function statusText(status: string, phase: string | undefined): string {
  switch (status) {
    case 'queued':
      return 'Waiting to start';
    case 'running':
      return phase ? `Running: ${phase}` : 'Running';
    case 'succeeded':
      return 'Done';
    case 'failed':
      return 'Failed';
    case 'cancelled':
      return 'Cancelled; nothing partial was kept';
    default:
      return status;
  }
}
