import { readFile } from 'node:fs/promises';
import firestorePkg from '@google-cloud/firestore';
import gax from 'google-gax';
import { AppError } from '../../../shared/errors.js';
import { parseServiceAccount } from '../../secrets/credential-files.js';
import { CallRegistry, firestoreTimeoutMs } from './calls.js';

/**
 * The raw GAPIC client. We use it instead of the Firestore SDK's document API because
 * the SDK decodes values into JS (1 and 1.0 become the same number, int64 loses
 * precision); the GAPIC client hands us the wire `Value` protos untouched.
 */
export type FirestoreV1Client = InstanceType<typeof firestorePkg.v1.FirestoreClient>;

export interface OpenFirestoreOptions {
  projectId: string;
  databaseId?: string;
  /** "host:port" of a Firestore emulator; when set, no credentials are used. */
  emulatorHost?: string;
  /** A service-account JSON key file. Without it (and without an emulator), ADC is used. */
  credentialsFile?: string;
  /**
   * Deadline of one request, and how long a streamed read may go without an answer.
   * Default: $FIREBACKUP_FIRESTORE_TIMEOUT_MS, else 60 s.
   */
  requestTimeoutMs?: number;
}

export interface FirestoreConnection {
  readonly client: FirestoreV1Client;
  readonly projectId: string;
  readonly databaseId: string;
  /** "projects/P/databases/D" */
  readonly databaseName: string;
  /** "projects/P/databases/D/documents": the prefix of every document name. */
  readonly documentsRoot: string;
  /** "host:port" we talk to, for error messages (never contains secrets). */
  readonly endpoint: string;
  /**
   * Options to pass to every call: the resource-prefix header, the emulator's admin
   * header, and gax's own retries switched off (we retry ourselves, per page/batch, so
   * that the total wait is bounded and errors name the host).
   */
  callOptions(timeoutMs?: number): gax.CallOptions;
  /** The deadline of one request (callOptions' default) and the stall limit of a stream. */
  readonly timeoutMs: number;
  /** Calls in flight: close() cancels them, so none keeps the process alive. */
  readonly calls: CallRegistry;
  close(): Promise<void>;
}

const ID_PATTERN = /^[^/]+$/;

export async function openFirestore(options: OpenFirestoreOptions): Promise<FirestoreConnection> {
  const { projectId, databaseId = '(default)', emulatorHost, credentialsFile } = options;
  if (!projectId || !ID_PATTERN.test(projectId)) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `"${projectId}" is not a valid Firebase project id. Pass the project id shown in the Firebase console.`,
    );
  }
  if (!ID_PATTERN.test(databaseId)) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `"${databaseId}" is not a valid Firestore database id. Use "(default)" or the id of a named database.`,
    );
  }

  const headers: Record<string, string> = {
    'google-cloud-resource-prefix': `projects/${projectId}/databases/${databaseId}`,
  };
  let clientOptions: ConstructorParameters<typeof firestorePkg.v1.FirestoreClient>[0];
  let endpoint: string;
  if (emulatorHost) {
    const { host, port } = splitHostPort(emulatorHost);
    endpoint = `${host}:${port}`;
    clientOptions = {
      servicePath: host,
      port,
      sslCreds: gax.grpc.credentials.createInsecure(),
      projectId,
      // Stated, so that google-auth does not go looking for Application Default
      // Credentials (or the GCE metadata server) only to learn the universe domain.
      universeDomain: 'googleapis.com',
    };
    // The emulator treats "Bearer owner" as an admin: security rules are bypassed, as
    // they are for service accounts against production.
    headers.Authorization = 'Bearer owner';
  } else {
    endpoint = 'firestore.googleapis.com:443';
    clientOptions = { projectId };
    if (credentialsFile) {
      clientOptions.credentials = await readServiceAccount(credentialsFile);
    }
  }

  const client = new firestorePkg.v1.FirestoreClient(clientOptions);
  const databaseName = `projects/${projectId}/databases/${databaseId}`;
  const noRetry = gax.createRetryOptions([], gax.createDefaultBackoffSettings());
  const timeoutMs = options.requestTimeoutMs ?? firestoreTimeoutMs();
  const calls = new CallRegistry();
  return {
    client,
    projectId,
    databaseId,
    databaseName,
    documentsRoot: `${databaseName}/documents`,
    endpoint,
    callOptions: (timeout = timeoutMs) => ({
      timeout,
      retry: noRetry,
      // Streamed calls go through retry-request, which otherwise re-sends a call that
      // failed before its first response (a cancelled one too) after a delay: that kept
      // a cancelled backup's process alive and re-queried a server already given up on.
      retryRequestOptions: { retries: 0, noResponseRetries: 0 },
      otherArgs: { headers },
    }),
    timeoutMs,
    calls,
    close: () => {
      calls.cancelAll();
      return client.close();
    },
  };
}

function splitHostPort(hostPort: string): { host: string; port: number } {
  const match = /^(.+):(\d{1,5})$/.exec(hostPort.replace(/^https?:\/\//, ''));
  if (!match?.[1] || !match[2]) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `The Firestore emulator address "${hostPort}" is not of the form host:port (for example 127.0.0.1:8080).`,
    );
  }
  return { host: match[1].replace(/^\[(.*)\]$/, '$1'), port: Number(match[2]) };
}

/**
 * Reads and checks a service-account key file. Error messages name the file and what is
 * wrong with it, never its content (it holds a private key).
 */
async function readServiceAccount(
  file: string,
): Promise<{ client_email: string; private_key: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new AppError(
      'INVALID_ARGUMENT',
      code === 'ENOENT'
        ? `The credentials file ${file} does not exist. Check the path, or download a service-account key from the Google Cloud console (IAM → Service accounts → Keys).`
        : `The credentials file ${file} could not be read (${code ?? 'unknown error'}). Check its permissions.`,
    );
  }
  const account = parseServiceAccount(text, `The credentials file ${file}`);
  return { client_email: account.clientEmail, private_key: account.privateKey };
}
