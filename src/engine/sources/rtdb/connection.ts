/**
 * A connection to a project's Realtime Database instances through firebase-admin's
 * database API (the service's own client: it speaks the wire protocol that queries by
 * key, which the REST API of the test stand-in ignores). firebase-admin is imported
 * only when an RTDB source is opened, so the CLI starts without loading it.
 *
 * Against an emulator (FIREBASE_DATABASE_EMULATOR_HOST or --rtdb-emulator), each
 * instance is `http://<host>/?ns=<instance>` and the admin SDK uses the emulator's owner
 * token; against the service, the instances come from the Firebase Management API.
 */
import { GoogleAuth } from 'google-auth-library';
import type { App } from 'firebase-admin/app';
import type { Database, Query } from 'firebase-admin/database';
import { AppError } from '../../../shared/errors.js';
import type { RtdbValue } from './records.js';

export interface OpenRtdbOptions {
  projectId: string;
  /** "host:port" of a Realtime Database emulator; no credentials used. */
  emulatorHost?: string;
  /** A service-account JSON key file. Without it (and without an emulator), ADC is used. */
  credentialsFile?: string;
  /** Instance names; default: every instance of the project (emulator: the default one). */
  instances?: string[];
  /** How long one read or write may take before the source counts as unreachable. */
  requestTimeoutMs?: number;
}

export interface RtdbInstance {
  name: string;
  databaseUrl: string;
  /** Children of `path` in key order after `after`, at most `limit`, each whole. */
  window(
    path: string,
    after: string | undefined,
    limit: number,
  ): Promise<Array<[string, RtdbValue]>>;
  /** The whole value at `path` (export form), null when nothing is there. */
  read(path: string): Promise<RtdbValue>;
  /** Whether anything is stored at `path`, without reading a large subtree. */
  exists(path: string): Promise<boolean>;
  /** One multi-location update; keys are paths relative to the root. */
  update(values: Record<string, RtdbValue>): Promise<void>;
  set(path: string, value: RtdbValue): Promise<void>;
  setPriority(path: string, priority: string | number): Promise<void>;
  /** Queries sent so far (reads), for tests and the bench. */
  readonly queries: number;
}

export interface RtdbConnection {
  projectId: string;
  emulator: boolean;
  /** The instances to read: given, or listed. */
  listInstances(): Promise<string[]>;
  instance(name: string): Promise<RtdbInstance>;
  close(): Promise<void>;
}

export const DEFAULT_RTDB_TIMEOUT_MS = 60_000;

/** The default instance every project with a Realtime Database has. */
export function defaultInstance(projectId: string): string {
  return `${projectId}-default-rtdb`;
}

let apps = 0;

export async function openRtdb(options: OpenRtdbOptions): Promise<RtdbConnection> {
  const emulatorHost = options.emulatorHost?.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_RTDB_TIMEOUT_MS;
  // The app (and firebase-admin itself) only once an instance is opened: listing the
  // instances does not need it, and the backup reads them in a worker thread of its own.
  let app: Promise<App> | undefined;
  const appOnce = (): Promise<App> =>
    (app ??= import('firebase-admin/app').then(({ initializeApp, cert }) =>
      initializeApp(
        {
          projectId: options.projectId,
          ...(options.credentialsFile && !emulatorHost
            ? { credential: cert(options.credentialsFile) }
            : {}),
        },
        `firebackup-rtdb-${++apps}`,
      ),
    ));
  const where = emulatorHost
    ? `the Realtime Database emulator at ${emulatorHost}`
    : 'the Realtime Database';
  const urlOf = (name: string): string =>
    emulatorHost
      ? `http://${emulatorHost}/?ns=${encodeURIComponent(name)}`
      : `https://${name}.firebaseio.com`;
  const instances = new Map<string, string>();

  async function deadline<T>(what: string, work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new AppError(
              'UNAVAILABLE',
              `No answer from ${where} within ${Math.round(timeoutMs / 1000)} s (${what}). Check the network${emulatorHost ? ' and that the emulator is running' : ''}, then try again.`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([work, late]);
    } catch (error) {
      throw rtdbError(error, what, where);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    projectId: options.projectId,
    emulator: Boolean(emulatorHost),
    async listInstances() {
      if (options.instances?.length) return options.instances;
      if (emulatorHost) return [defaultInstance(options.projectId)];
      const listed = await listProjectInstances(options);
      for (const i of listed) instances.set(i.name, i.databaseUrl);
      return listed.map((i) => i.name);
    },
    async instance(name) {
      const databaseUrl = instances.get(name) ?? urlOf(name);
      const { getDatabaseWithUrl } = await import('firebase-admin/database');
      const db: Database = getDatabaseWithUrl(databaseUrl, await appOnce());
      const ref = (path: string) => db.ref(path);
      let queries = 0;
      const once = async (query: Query, what: string): Promise<RtdbValue> => {
        queries++;
        // once(), not get(): the stand-in does not answer get()'s request.
        const snap = await deadline(what, query.once('value'));
        return snap.exportVal() as RtdbValue;
      };
      return {
        name,
        databaseUrl,
        get queries() {
          return queries;
        },
        async window(path, after, limit) {
          let query = ref(path).orderByKey();
          if (after !== undefined) query = query.startAfter(after);
          query = query.limitToFirst(limit);
          queries++;
          const snap = await deadline(`reading ${path}`, query.once('value'));
          const out: Array<[string, RtdbValue]> = [];
          snap.forEach((child) => {
            out.push([child.key!, child.exportVal() as RtdbValue]);
            return false;
          });
          return out;
        },
        read: (path) => once(ref(path), `reading ${path}`),
        async exists(path) {
          // An object answers a one-child query; a leaf (or nothing) does not, and is small.
          const first = await once(ref(path).orderByKey().limitToFirst(1), `checking ${path}`);
          if (first !== null) return true;
          return (await once(ref(path), `checking ${path}`)) !== null;
        },
        update: (values) => deadline('writing', ref('/').update(values)),
        set: (path, value) => deadline(`writing ${path}`, ref(path).set(value)),
        setPriority: (path, priority) =>
          deadline(
            `setting the priority of ${path}`,
            ref(path).setPriority(priority, () => undefined),
          ),
      };
    },
    async close() {
      if (!app) return;
      const { deleteApp } = await import('firebase-admin/app');
      // Closing must not hide the error that got us here.
      await app.then(deleteApp).catch(() => undefined);
    },
  };
}

function rtdbError(error: unknown, what: string, where: string): AppError {
  if (error instanceof AppError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/permission|denied|unauthori[sz]ed/i.test(message)) {
    return new AppError(
      'PERMISSION_DENIED',
      `${where} refused ${what}: ${message}. The credentials need the Firebase Realtime Database Admin role.`,
    );
  }
  return new AppError('UNAVAILABLE', `${where} failed ${what}: ${message}`);
}

const MANAGEMENT = 'https://firebasedatabase.googleapis.com/v1beta';

/** Every Realtime Database instance of the project (Firebase Management API), paged. */
async function listProjectInstances(
  options: OpenRtdbOptions,
): Promise<Array<{ name: string; databaseUrl: string }>> {
  const auth = new GoogleAuth({
    scopes: ['https://www.googleapis.com/auth/cloud-platform'],
    ...(options.credentialsFile ? { keyFile: options.credentialsFile } : {}),
  });
  const out: Array<{ name: string; databaseUrl: string }> = [];
  let pageToken = '';
  do {
    const url = `${MANAGEMENT}/projects/${options.projectId}/locations/-/instances?pageSize=100${pageToken ? `&pageToken=${encodeURIComponent(pageToken)}` : ''}`;
    let res: Response;
    try {
      const headers = (await auth.getRequestHeaders()) as Record<string, string>;
      res = await fetch(url, { headers });
    } catch (error) {
      throw new AppError(
        'PERMISSION_DENIED',
        `Cannot list the Realtime Database instances of ${options.projectId}: ${error instanceof Error ? error.message : String(error)}. Pass --credentials <service-account.json>, or name them with --rtdb-instances.`,
      );
    }
    const text = await res.text();
    if (!res.ok) {
      throw new AppError(
        res.status === 401 || res.status === 403 ? 'PERMISSION_DENIED' : 'UNAVAILABLE',
        `The Firebase Management API refused to list the Realtime Database instances of ${options.projectId} (${res.status}: ${text.slice(0, 200)}). Name them with --rtdb-instances, or grant the Firebase Realtime Database Viewer role.`,
      );
    }
    const body = JSON.parse(text) as {
      instances?: Array<{ name: string; databaseUrl: string; state?: string }>;
      nextPageToken?: string;
    };
    for (const i of body.instances ?? []) {
      if (i.state && i.state !== 'ACTIVE') continue;
      out.push({ name: i.name.slice(i.name.lastIndexOf('/') + 1), databaseUrl: i.databaseUrl });
    }
    pageToken = body.nextPageToken ?? '';
  } while (pageToken);
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
