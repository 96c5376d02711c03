import path from 'node:path';
import { zodToJsonSchema } from 'zod-to-json-schema';
import type { DestinationView } from '../../../shared/api/methods/destination-setup.js';
import { fieldsFromJsonSchema, type DestinationKind } from '../../../shared/destination-forms.js';
import { AppError } from '../../../shared/errors.js';
import {
  DestinationInputSchema,
  parseOrThrow,
  type DestinationRecord,
} from '../../catalog/projects.js';
import { Keyring } from '../../keys/keyring.js';
import { MasterKey } from '../../keys/master-key.js';
import { preflight } from '../../operations/preflight.js';
import { backendKinds, openDestination, schemeOf } from '../../storage/index.js';
import type { HandlerContext, HandlersFor } from './context.js';

const LABELS: Record<string, string> = {
  s3: 'Amazon S3 or S3-compatible (MinIO, R2…)',
  gs: 'Google Cloud Storage',
};

function kindOf(url: string): string {
  const scheme = schemeOf(url);
  return scheme === undefined || scheme === 'file' ? 'local' : scheme;
}

const view = (d: DestinationRecord): DestinationView => ({
  id: d.id,
  name: d.name,
  url: d.url,
  kind: kindOf(d.url),
  options: d.options,
  createdAt: d.createdAt,
});

/**
 * A local destination must be a full path: a relative one would be resolved against
 * whatever folder the app or the daemon happened to start in, and backups would land in
 * a different place depending on who made them.
 */
function checkUrl(url: string): void {
  if (kindOf(url) === 'local' && !schemeOf(url) && !path.isAbsolute(url)) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `"${url}" is not a full path. Give the folder's full path (e.g. /home/you/firebackup or C:\\Backups\\firebackup).`,
    );
  }
}

export function destinationSetupHandlers({
  runtime,
  keyring,
  dataDir,
}: HandlerContext): HandlersFor<
  | 'destinations.kinds'
  | 'destinations.list'
  | 'destinations.add'
  | 'destinations.update'
  | 'destinations.test'
  | 'destinations.remove'
> {
  const { catalog } = runtime;
  return {
    'destinations.kinds': async () => {
      const local: DestinationKind = {
        kind: 'local',
        label: 'A folder on this computer (or a mounted drive)',
        example: '/path/to/folder',
        suggestedUrl: path.join(dataDir, 'backups'),
        fields: [],
      };
      return [
        local,
        ...backendKinds().map((k): DestinationKind => ({
          kind: k.schemes[0]!,
          label: LABELS[k.schemes[0]!] ?? `${k.schemes[0]}://`,
          example: k.example,
          fields: fieldsFromJsonSchema(zodToJsonSchema(k.optionsSchema)),
        })),
      ];
    },

    'destinations.list': async () => catalog.destinations.list().map(view),

    'destinations.add': async ({ name, url, options }) => {
      checkUrl(url);
      if (catalog.destinations.findByName(name) || catalog.destinations.findByUrl(url)) {
        throw new AppError(
          'ALREADY_EXISTS',
          `A destination with the name "${name}" or the location ${url} is already in the catalog. Choose another, or edit that one.`,
        );
      }
      // First the catalog's rules (no secrets), then the kind's schema (opening checks it).
      parseOrThrow(DestinationInputSchema, { name, url, options }, 'destination');
      await openDestination(url, options);
      return view(catalog.destinations.upsert({ name, url, options }));
    },

    'destinations.update': async ({ destinationId, options }) => {
      const current = catalog.destinations.get(destinationId);
      parseOrThrow(
        DestinationInputSchema,
        { name: current.name, url: current.url, options },
        'destination',
      );
      await openDestination(current.url, options);
      return view(catalog.destinations.updateOptions(destinationId, options));
    },

    'destinations.test': async (input) => {
      const { url, options } =
        'destinationId' in input ? catalog.destinations.get(input.destinationId) : input;
      checkUrl(url);
      const destination = await openDestination(url, options);
      // The probe is sealed like a backup; before the first key exists (first run) a
      // throwaway key proves the same write/read/delete.
      const probeKeys = keyring.currentKey ? keyring : new Keyring(MasterKey.generate());
      const started = Date.now();
      await preflight(destination, probeKeys);
      return { displayUrl: destination.displayUrl, latencyMs: Date.now() - started };
    },

    'destinations.remove': async ({ destinationId }) => {
      catalog.destinations.remove(destinationId);
      return { removed: true as const };
    },
  };
}
