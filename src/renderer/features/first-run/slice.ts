import type { SliceCreator } from '../../store/slice.js';
import { setUpHere } from '../sync/abilities.js';
import { isFirstRun, nextStep, type FirstRunStep } from './steps.js';

export interface FirstRunSlice {
  step: FirstRunStep;
  projectId: string | null;
  destinationId: string | null;
  backupJobId: string | null;
  verifyJobId: string | null;
  /** Opens the guide when the catalog is empty; answers whether it did. */
  detect(): Promise<boolean>;
  advance(): void;
  goTo(step: FirstRunStep): void;
  chooseProject(id: string): void;
  chooseDestination(id: string): void;
  backUp(): Promise<void>;
  verify(): Promise<void>;
}

export const firstRunSlice: SliceCreator<FirstRunSlice> = ({ client, get, set, root }) => ({
  step: 'key',
  projectId: null,
  destinationId: null,
  backupJobId: null,
  verifyJobId: null,
  async detect() {
    const moves = root().nav.moves;
    const [projects, destinations] = await Promise.all([
      client.call('projects.list', {}),
      client.call('destinations.list', {}),
    ]);
    // When the catalog cannot be read, the normal screens show why; no guide then.
    if (!projects.ok || !destinations.ok) return false;
    // The guide sets up this machine: another member's project or destination (team sync
    // mode) is not set up here.
    if (!isFirstRun(setUpHere(projects.value).length, setUpHere(destinations.value).length))
      return false;
    // Navigated while the lists loaded (a team server or a busy machine is slow), even to
    // the screen already showing: the person's choice stands.
    if (root().nav.moves !== moves) return false;
    root().nav.go('first-run');
    return true;
  },
  advance: () => set({ step: nextStep(get().step) }),
  goTo: (step) => set({ step }),
  chooseProject: (projectId) => set({ projectId }),
  chooseDestination: (destinationId) => set({ destinationId }),
  async backUp() {
    const { projectId, destinationId } = get();
    if (!projectId || !destinationId) return;
    const jobId = await root().jobs.startBackup({ projectId, destinationId });
    if (jobId) set({ backupJobId: jobId });
  },
  async verify() {
    const { destinationId } = get();
    if (!destinationId) return;
    const jobId = await root().jobs.startVerify({ destinationId, limit: 1 });
    if (jobId) set({ verifyJobId: jobId });
  },
});
