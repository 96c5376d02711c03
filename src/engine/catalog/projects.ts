import { z } from 'zod';
import { AppError } from '../../shared/errors.js';
import type { Clock } from '../clock.js';
import type { Db } from './db.js';
import { newId } from './ids.js';

/**
 * Projects and destinations: connection settings, never secrets. A service account is
 * referred to by the path of its file; destination credentials come from the
 * environment (or the OS keychain in the desktop app), not from the catalog.
 */

export const ProjectInputSchema = z
  .object({
    name: z.string().trim().min(1),
    firebaseProjectId: z
      .string()
      .regex(/^[a-z0-9-]{1,63}$/, 'a Firebase project id like "my-app-123"'),
    databaseId: z.string().min(1).default('(default)'),
    credentialsPath: z
      .string()
      .min(1)
      .refine((s) => !s.trimStart().startsWith('{') && !s.includes('PRIVATE KEY'), {
        message:
          'give the path of the service-account JSON file, not its contents: the catalog never stores secrets',
      })
      .nullable()
      .default(null),
    emulatorHost: z.string().min(1).nullable().default(null),
  })
  .strict();
export type ProjectInput = z.input<typeof ProjectInputSchema>;
export type ProjectRecord = z.output<typeof ProjectInputSchema> & { id: string; createdAt: string };

const SECRET_OPTION = /secret|password|passphrase|token|credential|private|session/i;

export const DestinationInputSchema = z
  .object({
    name: z.string().trim().min(1),
    url: z.string().min(1),
    options: z
      .record(z.unknown())
      .default({})
      .superRefine((opts, ctx) => {
        for (const key of Object.keys(opts)) {
          if (SECRET_OPTION.test(key)) {
            ctx.addIssue({
              code: 'custom',
              message: `option "${key}" looks like a secret; the catalog never stores secrets — give it as the destination's secret (kept in the app's secret store) or set it in the environment instead`,
            });
          }
        }
      }),
  })
  .strict();
export type DestinationInput = z.input<typeof DestinationInputSchema>;
export type DestinationRecord = z.output<typeof DestinationInputSchema> & {
  id: string;
  createdAt: string;
};

export function parseOrThrow<S extends z.ZodTypeAny>(
  schema: S,
  value: unknown,
  what: string,
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data as z.output<S>;
  const issues = parsed.error.issues
    .map((i) => `${i.path.join('.') || what}: ${i.message}`)
    .join('; ');
  throw new AppError('INVALID_ARGUMENT', `Invalid ${what}: ${issues}.`);
}

interface ProjectRow {
  id: string;
  name: string;
  firebase_project_id: string;
  database_id: string;
  credentials_path: string | null;
  emulator_host: string | null;
  created_at: string;
}
interface DestinationRow {
  id: string;
  name: string;
  url: string;
  options_json: string;
  created_at: string;
}

const toProject = (r: ProjectRow): ProjectRecord => ({
  id: r.id,
  name: r.name,
  firebaseProjectId: r.firebase_project_id,
  databaseId: r.database_id,
  credentialsPath: r.credentials_path,
  emulatorHost: r.emulator_host,
  createdAt: r.created_at,
});
const toDestination = (r: DestinationRow): DestinationRecord => ({
  id: r.id,
  name: r.name,
  url: r.url,
  options: JSON.parse(r.options_json) as Record<string, unknown>,
  createdAt: r.created_at,
});

export class ProjectsRepo {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** Creates the project, or updates the one with the same name. */
  upsert(input: ProjectInput): ProjectRecord {
    const p = parseOrThrow(ProjectInputSchema, input, 'project');
    const existing = this.findByName(p.name);
    const id = existing?.id ?? newId('prj', this.clock.now());
    this.db
      .prepare(
        `INSERT INTO projects (id, name, firebase_project_id, database_id, credentials_path, emulator_host, created_at)
         VALUES (@id, @name, @firebaseProjectId, @databaseId, @credentialsPath, @emulatorHost, @createdAt)
         ON CONFLICT(id) DO UPDATE SET firebase_project_id = excluded.firebase_project_id,
           database_id = excluded.database_id, credentials_path = excluded.credentials_path,
           emulator_host = excluded.emulator_host`,
      )
      .run({ ...p, id, createdAt: existing?.createdAt ?? this.clock.now().toISOString() });
    return this.get(id);
  }

  get(id: string): ProjectRecord {
    const row = this.db.prepare('SELECT * FROM projects WHERE id = ?').get(id) as
      ProjectRow | undefined;
    if (!row)
      throw new AppError(
        'NOT_FOUND',
        `No project "${id}" in the catalog. List projects with "firebackup schedule list".`,
      );
    return toProject(row);
  }

  findByName(name: string): ProjectRecord | undefined {
    const row = this.db.prepare('SELECT * FROM projects WHERE name = ?').get(name) as
      ProjectRow | undefined;
    return row && toProject(row);
  }

  list(): ProjectRecord[] {
    return (this.db.prepare('SELECT * FROM projects ORDER BY name').all() as ProjectRow[]).map(
      toProject,
    );
  }

  /** Removes the project's row; refused (by the schema's foreign key) while a schedule uses it. */
  remove(id: string): void {
    const project = this.get(id);
    removeReferenced(this.db, 'projects', id, `project "${project.name}"`);
  }
}

/** Deletes a row that schedules may reference, turning the foreign-key refusal into advice. */
function removeReferenced(
  db: Db,
  table: 'projects' | 'destinations',
  id: string,
  what: string,
): void {
  try {
    db.prepare(`DELETE FROM ${table} WHERE id = ?`).run(id);
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
      throw new AppError(
        'INVALID_ARGUMENT',
        `The ${what} is used by a schedule. Remove or change that schedule first (Schedules, or "firebackup schedule remove").`,
      );
    }
    throw error;
  }
}

export class DestinationsRepo {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** Creates the destination, or returns the one already registered for this URL. */
  upsert(input: DestinationInput): DestinationRecord {
    const d = parseOrThrow(DestinationInputSchema, input, 'destination');
    const existing = this.findByUrl(d.url) ?? this.findByName(d.name);
    const id = existing?.id ?? newId('dst', this.clock.now());
    this.db
      .prepare(
        `INSERT INTO destinations (id, name, url, options_json, created_at)
         VALUES (@id, @name, @url, @options, @createdAt)
         ON CONFLICT(id) DO UPDATE SET url = excluded.url, options_json = excluded.options_json`,
      )
      .run({
        id,
        name: existing?.name ?? d.name,
        url: d.url,
        options: JSON.stringify(d.options),
        createdAt: existing?.createdAt ?? this.clock.now().toISOString(),
      });
    return this.get(id);
  }

  get(id: string): DestinationRecord {
    const row = this.db.prepare('SELECT * FROM destinations WHERE id = ?').get(id) as
      DestinationRow | undefined;
    if (!row) throw new AppError('NOT_FOUND', `No destination "${id}" in the catalog.`);
    return toDestination(row);
  }

  findByUrl(url: string): DestinationRecord | undefined {
    const row = this.db.prepare('SELECT * FROM destinations WHERE url = ?').get(url) as
      DestinationRow | undefined;
    return row && toDestination(row);
  }

  findByName(name: string): DestinationRecord | undefined {
    const row = this.db.prepare('SELECT * FROM destinations WHERE name = ?').get(name) as
      DestinationRow | undefined;
    return row && toDestination(row);
  }

  list(): DestinationRecord[] {
    return (
      this.db.prepare('SELECT * FROM destinations ORDER BY name').all() as DestinationRow[]
    ).map(toDestination);
  }

  /** Replaces the destination's options (the URL, and so its backups, stay). */
  updateOptions(id: string, options: Record<string, unknown>): DestinationRecord {
    const current = this.get(id);
    const d = parseOrThrow(
      DestinationInputSchema,
      { name: current.name, url: current.url, options },
      'destination',
    );
    this.db
      .prepare('UPDATE destinations SET options_json = ? WHERE id = ?')
      .run(JSON.stringify(d.options), id);
    return this.get(id);
  }

  /**
   * Forgets the destination: its row and the catalog's cached list of its backups. The
   * backups themselves stay in storage (add the destination again to see them). Refused
   * while a schedule uses it.
   */
  remove(id: string): void {
    const destination = this.get(id);
    this.db.transaction(() => {
      removeReferenced(this.db, 'destinations', id, `destination "${destination.name}"`);
      this.db.prepare('DELETE FROM backups WHERE destination_id = ?').run(id);
    })();
  }
}
