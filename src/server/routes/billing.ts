import { z } from 'zod';
import { ruleFor } from '../auth.js';
import { lastRead, type Reader } from '../db/db.js';
import { parseBody } from './body.js';
import { notFound, type OrgRoute } from './org-route.js';

/**
 * The organisation's billing settings: its plan and billing contact. No payment is
 * processed here; the point is the guide's "Manage billing" (the owner's alone, never an
 * API key's) and its audit category for billing changes: each change is recorded as
 * `billing.updated` with what changed, from and to.
 */

export const PLANS = ['free', 'team', 'enterprise'] as const;

const BillingBody = z
  .object({
    plan: z.enum(PLANS).optional(),
    /** The address invoices and billing notices go to; null removes it. */
    billingEmail: z
      .string()
      .trim()
      .toLowerCase()
      .email('billingEmail must be an email address (or null to remove it)')
      .max(320)
      .nullable()
      .optional(),
  })
  .strict()
  .refine((b) => b.plan !== undefined || b.billingEmail !== undefined, {
    message: 'send plan or billingEmail (or both) to change',
  });

/** The answer of both routes (its schema for the OpenAPI document is in responses.ts). */
interface Billing {
  plan: (typeof PLANS)[number];
  billingEmail: string | null;
  updatedAt: string | null;
  updatedBy: string | null;
}

const MANAGE_BILLING = ruleFor('billing:manage');

async function currentBilling(tx: Reader, orgId: string, lock = false): Promise<Billing> {
  const [row] = await tx.query<{
    plan: Billing['plan'];
    billing_email: string | null;
    billing_updated_at: Date | null;
    billing_updated_by: string | null;
  }>(
    `SELECT plan, billing_email, billing_updated_at, billing_updated_by FROM organisations${lock ? ' FOR UPDATE' : ''}`,
  );
  if (row === undefined) throw notFound('organisation', orgId);
  return {
    plan: row.plan,
    billingEmail: row.billing_email,
    updatedAt: row.billing_updated_at?.toISOString() ?? null,
    updatedBy: row.billing_updated_by,
  };
}

export const BILLING_ROUTES: readonly OrgRoute[] = [
  {
    method: 'GET',
    path: '/billing',
    rule: MANAGE_BILLING,
    summary: "The organisation's plan and billing contact (owner).",
    async handle(tx, c) {
      return { body: await currentBilling(lastRead(tx), c.orgId) };
    },
  },
  {
    method: 'PATCH',
    path: '/billing',
    rule: MANAGE_BILLING,
    summary: 'Change the plan or billing contact (owner; audited as billing.updated).',
    body: BillingBody,
    async handle(tx, c, request, audit, ctx) {
      const change = parseBody(BillingBody, request.body);
      const before = await currentBilling(tx, c.orgId, true);
      // What actually changes, from and to: the audit entry records nothing else.
      const changed: Record<string, { from: unknown; to: unknown }> = {};
      if (change.plan !== undefined && change.plan !== before.plan)
        changed.plan = { from: before.plan, to: change.plan };
      if (change.billingEmail !== undefined && change.billingEmail !== before.billingEmail)
        changed.billingEmail = { from: before.billingEmail, to: change.billingEmail };
      if (Object.keys(changed).length === 0) return { body: before };
      await tx.query(
        `UPDATE organisations SET plan = $1, billing_email = $2, billing_updated_at = $3,
                billing_updated_by = $4`,
        [
          change.plan ?? before.plan,
          change.billingEmail === undefined ? before.billingEmail : change.billingEmail,
          ctx.now(),
          c.actor.id,
        ],
      );
      await audit({
        event: 'billing.updated',
        resource: { type: 'billing', id: c.orgId },
        metadata: changed,
      });
      return { body: await currentBilling(tx, c.orgId) };
    },
  },
];
