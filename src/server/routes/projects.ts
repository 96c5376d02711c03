import { z } from 'zod';
import { AppError } from '../../shared/errors.js';
import { ruleFor } from '../auth.js';
import { parseBody } from './body.js';
import { notFound, param, type OrgRoute } from './org-route.js';

/**
 * Changing and removing the organisation's projects (adding one is in org.ts), so an
 * app in sync mode can mirror its project edits. Settings of the organisation: owners
 * and admins, as adding one. A project with backup records or schedules is not removed:
 * the server's cascade would silently drop their history.
 */

export const ProjectBody = z.object({
  name: z.string().min(1).max(200),
  firebaseProjectId: z.string().regex(/^[a-z0-9-]{4,40}$/, 'a Firebase project id'),
});
const ProjectPatch = ProjectBody.partial().strict();

const PROJECT_COLUMNS = `id, name, firebase_project_id AS "firebaseProjectId", created_at AS "createdAt"`;

/** What still points at the project: refused while anything does. */
async function usersOf(
  tx: Parameters<OrgRoute['handle']>[0],
  id: string,
): Promise<{ schedules: number; backups: number }> {
  const [row] = await tx.query<{ schedules: number; backups: number }>(
    `SELECT (SELECT count(*)::int FROM schedules WHERE project_id = $1) AS schedules,
            (SELECT count(*)::int FROM backups WHERE project_id = $1) AS backups`,
    [id],
  );
  return row!;
}

const MANAGE = ruleFor('projects:manage');

export const PROJECT_WRITE_ROUTES: readonly OrgRoute[] = [
  {
    method: 'PATCH',
    path: '/projects/:projectId',
    rule: MANAGE,
    summary: 'Rename a project or change its Firebase project id.',
    body: ProjectPatch,
    async handle(tx, _c, request, audit) {
      const id = param(request, 'projectId');
      const patch = parseBody(ProjectPatch, request.body);
      const [row] = await tx.query(
        `UPDATE projects SET name = COALESCE($2, name),
                firebase_project_id = COALESCE($3, firebase_project_id)
          WHERE id = $1 RETURNING ${PROJECT_COLUMNS}`,
        [id, patch.name ?? null, patch.firebaseProjectId ?? null],
      );
      if (row === undefined) throw notFound('project', id);
      await audit({
        event: 'project.updated',
        resource: { type: 'project', id },
        metadata: { changed: Object.keys(patch), ...patch },
      });
      return { body: row };
    },
  },
  {
    method: 'DELETE',
    path: '/projects/:projectId',
    rule: MANAGE,
    summary: 'Remove a project no schedule and no backup record refers to.',
    async handle(tx, _c, request, audit) {
      const id = param(request, 'projectId');
      const [current] = await tx.query<{ name: string }>(
        'SELECT name FROM projects WHERE id = $1 FOR UPDATE',
        [id],
      );
      if (current === undefined) throw notFound('project', id);
      const used = await usersOf(tx, id);
      if (used.schedules > 0 || used.backups > 0)
        throw new AppError(
          'INVALID_ARGUMENT',
          `Project "${current.name}" still has ${used.schedules} schedule(s) and ${used.backups} backup record(s) in this organisation; delete those first (backup records describe archives still in storage).`,
        );
      await tx.query('DELETE FROM projects WHERE id = $1', [id]);
      await audit({
        event: 'project.deleted',
        resource: { type: 'project', id },
        metadata: { name: current.name },
      });
      return { status: 204 };
    },
  },
];
