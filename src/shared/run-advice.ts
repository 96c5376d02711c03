import type { Run } from './jobs.js';

/**
 * What to do about a run that did not succeed, in one sentence a user can act on: the
 * History screen shows it under the error, notifications may reuse it. Pure, so the
 * engine's answers and the screen agree.
 */
export function runAdvice(run: Pick<Run, 'status' | 'kind' | 'error' | 'detail'>): string | null {
  if (run.status === 'missed') {
    return 'FireBackup was not running at that time (machine asleep or app closed). Keep the app or `firebackup daemon` running, and turn on "start at login" in Settings; one catch-up run is started when it runs again.';
  }
  if (run.status === 'cancelled')
    return 'Cancelled: nothing partial was kept. Start it again when ready.';
  if (run.status !== 'failed') return null;
  switch (run.error?.code) {
    case 'UNAVAILABLE':
    case 'DEADLINE_EXCEEDED':
    case 'RESOURCE_EXHAUSTED':
      return 'The service did not answer (retried automatically). Check the network, the emulator or the destination, then run it again.';
    case 'UNAUTHENTICATED':
    case 'PERMISSION_DENIED':
      return "The credentials were refused. Check the project's service account (it needs the Cloud Datastore Import Export Admin or Owner role) or the destination's credentials, then test the connection in Projects or Destinations.";
    case 'KEY_NOT_FOUND':
    case 'KEY_INVALID':
      return 'A key is missing or not valid. Import the key these backups were made with on the Keys screen (from your recovery kit).';
    case 'INTEGRITY':
    case 'ARCHIVE_CORRUPT':
    case 'ARCHIVE_MISMATCH':
      return 'A stored archive is damaged or not the one written. Make a new backup now, then check the destination (Destinations → Check) for failing storage.';
    case 'NO_SPACE':
      return 'The disk is full. Free space at the destination (or set a retention policy), then run it again.';
    case 'NOT_FOUND':
      return "Something it needs is gone, or the backup was empty. Check the schedule's project, database and collections.";
    case 'ABORTED':
      return 'The FireBackup process stopped during the run; nothing partial was kept. The next run starts afresh.';
    case 'INVALID_ARGUMENT':
      return 'A setting is not valid: edit the schedule or project as the error says.';
    default:
      return 'Read the error above, then run it again; if it keeps failing, report it with the run id.';
  }
}
