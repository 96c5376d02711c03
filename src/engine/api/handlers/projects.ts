import { AppError } from '../../../shared/errors.js';
import type { ProjectView } from '../../../shared/api/methods/projects.js';
import type { ProjectRecord } from '../../catalog/projects.js';
import {
  forgetServiceAccount,
  serviceAccountEmail,
  storeServiceAccount,
} from '../../secrets/credential-files.js';
import { openFirestore } from '../../sources/firestore/connection.js';
import { toAppError } from '../../sources/firestore/retry.js';
import type { HandlerContext, HandlersFor } from './context.js';
import { syncedCatalogOf } from './sync.js';

/** A connection test is quick or it is a failure: the user is waiting on a button. */
const TEST_TIMEOUT_MS = 15_000;

export async function projectView(p: ProjectRecord): Promise<ProjectView> {
  return {
    id: p.id,
    name: p.name,
    firebaseProjectId: p.firebaseProjectId,
    databaseId: p.databaseId,
    connection: p.emulatorHost
      ? 'emulator'
      : p.credentialsPath
        ? 'service-account'
        : 'default-credentials',
    emulatorHost: p.emulatorHost,
    serviceAccountEmail: p.credentialsPath ? await serviceAccountEmail(p.credentialsPath) : null,
    createdAt: p.createdAt,
  };
}

export function projectHandlers(
  context: HandlerContext,
): HandlersFor<'projects.list' | 'projects.add' | 'projects.test' | 'projects.remove'> {
  const { runtime, dataDir } = context;
  const { catalog } = runtime;
  return {
    'projects.list': async () =>
      syncedCatalogOf(context).projects(
        await Promise.all(catalog.projects.list().map(projectView)),
      ),

    'projects.add': async ({ name, firebaseProjectId, databaseId, connection }) => {
      if (catalog.projects.findByName(name)) {
        throw new AppError(
          'ALREADY_EXISTS',
          `A project named "${name}" is already in the catalog. Choose another name, or remove that one first.`,
        );
      }
      const credentialsPath =
        connection.kind === 'service-account'
          ? await storeServiceAccount(dataDir, firebaseProjectId, connection.json)
          : null;
      try {
        return await projectView(
          catalog.projects.upsert({
            name,
            firebaseProjectId,
            databaseId,
            credentialsPath,
            emulatorHost: connection.kind === 'emulator' ? connection.host : null,
          }),
        );
      } catch (error) {
        if (credentialsPath) await forgetServiceAccount(dataDir, credentialsPath);
        throw error;
      }
    },

    'projects.test': async ({ projectId }) => {
      const p = catalog.projects.get(projectId);
      const started = Date.now();
      const conn = await openFirestore({
        projectId: p.firebaseProjectId,
        databaseId: p.databaseId,
        ...(p.emulatorHost ? { emulatorHost: p.emulatorHost } : {}),
        ...(p.credentialsPath ? { credentialsFile: p.credentialsPath } : {}),
        requestTimeoutMs: TEST_TIMEOUT_MS,
      });
      try {
        const [ids] = await conn.client.listCollectionIds(
          { parent: conn.documentsRoot, pageSize: 20 },
          { ...conn.callOptions(), autoPaginate: false },
        );
        return {
          endpoint: conn.endpoint,
          rootCollections: ids,
          latencyMs: Date.now() - started,
        };
      } catch (error) {
        throw toAppError(error, {
          endpoint: conn.endpoint,
          database: conn.databaseName,
          action: 'testing the connection (listing root collections)',
          timeoutMs: TEST_TIMEOUT_MS,
        });
      } finally {
        await conn.close();
      }
    },

    'projects.remove': async ({ projectId }) => {
      const p = catalog.projects.get(projectId);
      catalog.projects.remove(projectId);
      if (p.credentialsPath) await forgetServiceAccount(dataDir, p.credentialsPath);
      return { removed: true as const };
    },
  };
}
