import { otherSourcesOf, sourceOf } from '../../jobs/engine-adapter.js';
import { SOURCE_NAMES } from '../../operations/source-records.js';
import { chooseSources, probeRequestOf } from '../../operations/source-probes.js';
import type { HandlerContext, HandlersFor } from './context.js';

export function sourceHandlers({ runtime }: HandlerContext): HandlersFor<'sources.probe'> {
  return {
    'sources.probe': async ({ projectId }) => {
      const project = runtime.catalog.projects.get(projectId);
      // Connection options for every source, as a backup of all of them would use.
      const others = otherSourcesOf(project, { sources: [...SOURCE_NAMES] });
      return chooseSources(probeRequestOf({ source: sourceOf(project), ...others }));
    },
  };
}
