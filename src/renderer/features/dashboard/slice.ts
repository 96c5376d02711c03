import type { z } from 'zod';
import type {
  DestinationUsageSchema,
  ProjectHealthSchema,
} from '../../../shared/api/methods/dashboard.js';
import { callInto, loadable, type Loadable, type SliceCreator } from '../../store/slice.js';
import type { SeriesPoint } from './series.js';

export type ProjectHealth = z.infer<typeof ProjectHealthSchema>;
export type DestinationUsage = z.infer<typeof DestinationUsageSchema>;

export interface DashboardSlice {
  overview: Loadable<{ projects: ProjectHealth[]; destinations: DestinationUsage[] }>;
  series: Loadable<SeriesPoint[]>;
  days: number;
  load(): Promise<void>;
  setDays(days: number): Promise<void>;
}

export const dashboardSlice: SliceCreator<DashboardSlice> = ({ client, get, set }) => {
  const slice: DashboardSlice = {
    overview: loadable({ projects: [], destinations: [] }),
    series: loadable([]),
    days: 90,
    async load() {
      set({
        overview: { ...get().overview, loading: true, error: null },
        series: { ...get().series, loading: true, error: null },
      });
      const [overview, series] = await Promise.all([
        callInto(client, 'dashboard.overview', {}, (error) =>
          set({ overview: { ...get().overview, loading: false, error } }),
        ),
        callInto(client, 'dashboard.series', { days: get().days }, (error) =>
          set({ series: { ...get().series, loading: false, error } }),
        ),
      ]);
      if (overview) set({ overview: { value: overview, loading: false, error: null } });
      if (series) set({ series: { value: series, loading: false, error: null } });
    },
    async setDays(days) {
      set({ days });
      await slice.load();
    },
  };
  return slice;
};
