import { AppError } from '../../shared/errors.js';
import type { Role } from '../../shared/rbac.js';
import type { OrgCaller } from '../auth.js';
import type { Tx } from '../db/db.js';

/**
 * The rules every change of who is owner follows (role changes, removals, invitations as
 * owner, ownership transfer): only an owner makes or unmakes an owner, and an organisation
 * always keeps one. The check locks the organisation's row first, so two owners demoting
 * each other at the same moment are serialised and the second one sees the first's change
 * (without it both counted two owners and both went through). Migration 4's
 * memberships_keep_owner trigger is the database's own wall behind this.
 */
export async function checkMemberChange(
  tx: Tx,
  c: OrgCaller,
  target: { role: Role },
  newRole: Role | null,
): Promise<void> {
  const touchesOwner = target.role === 'owner' || newRole === 'owner';
  if (touchesOwner && c.role !== 'owner')
    throw new AppError('PERMISSION_DENIED', 'Only an owner may make or unmake an owner.');
  if (target.role === 'owner' && newRole !== 'owner' && (await lockedOwnerCount(tx)) <= 1)
    throw new AppError(
      'INVALID_ARGUMENT',
      'This is the last owner of the organisation; make another member owner first.',
    );
}

/** Locks the organisation (RLS shows only the caller's) and counts its owners. */
async function lockedOwnerCount(tx: Tx): Promise<number> {
  await tx.query('SELECT id FROM organisations FOR UPDATE');
  const [row] = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM memberships WHERE role = 'owner'`,
  );
  return row?.n ?? 0;
}
