import type { ErrorData } from '../../../shared/errors.js';
import type { SliceCreator } from '../../store/slice.js';

/**
 * "Back up now" per project, from the Projects and Dashboard screens: the job each
 * project's last manual backup runs as (so its progress survives moving between screens),
 * the destination picked for it, and why the last start failed.
 */
export interface BackupNowSlice {
  jobIdByProject: Record<string, string>;
  pickedByProject: Record<string, string>;
  errorByProject: Record<string, ErrorData | null>;
  pick(projectId: string, destinationId: string): void;
  start(projectId: string, destinationId: string): Promise<string | undefined>;
}

export const backupNowSlice: SliceCreator<BackupNowSlice> = ({ set, root }) => ({
  jobIdByProject: {},
  pickedByProject: {},
  errorByProject: {},
  pick: (projectId, destinationId) =>
    set((s) => ({ pickedByProject: { ...s.pickedByProject, [projectId]: destinationId } })),
  async start(projectId, destinationId) {
    set((s) => ({ errorByProject: { ...s.errorByProject, [projectId]: null } }));
    const jobs = root().jobs;
    const jobId = await jobs.startBackup({ projectId, destinationId });
    if (jobId) set((s) => ({ jobIdByProject: { ...s.jobIdByProject, [projectId]: jobId } }));
    // The jobs slice keeps the start failure (as data); show it beside this project.
    else set((s) => ({ errorByProject: { ...s.errorByProject, [projectId]: root().jobs.error } }));
    return jobId;
  },
});
