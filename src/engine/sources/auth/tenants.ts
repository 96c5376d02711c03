/**
 * Where a backup's tenant users go on restore. Tenant ids are made by the service (no
 * one can create a tenant of a chosen id), so users of tenant `a` go back into tenant
 * `a` of the target (restoring into the same project) or, with `--tenant-map a=b`, into
 * tenant `b`, created beforehand in the target. The target tenant must exist: the check
 * lists the target's tenants (the Auth emulator creates any tenant an account path
 * names, so a lookup by id would always answer) and runs before that scope's first user
 * is written.
 */
import { AppError } from '../../../shared/errors.js';
import type { AuthConnection } from './connection.js';
import { listTenants } from './export.js';
import type { AuthHashConfigRecord, AuthUserRecord } from './records.js';

/** `--tenant-map a=b,c=d` → { a: 'b', c: 'd' }, checked. */
export function parseTenantMap(text: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const pair of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([^=\s]+)=([^=\s]+)$/.exec(pair);
    if (!m) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `"${pair}" is not a tenant mapping: write <archived tenant id>=<target tenant id>, e.g. --tenant-map acme-1x2y=acme-9z8w.`,
      );
    }
    if (map[m[1]!] !== undefined) {
      throw new AppError('INVALID_ARGUMENT', `--tenant-map names tenant ${m[1]} twice.`);
    }
    map[m[1]!] = m[2]!;
  }
  return map;
}

export class TenantTargets {
  private existing: Promise<Set<string>> | undefined;
  /** Archived tenants met, to tell mappings that named none of them. */
  private readonly met = new Set<string>();

  constructor(
    private readonly conn: AuthConnection,
    private readonly map: Record<string, string> = {},
  ) {}

  /**
   * The scope's hash configuration with the target tenant in place of the archived one,
   * after checking the target tenant exists; the project's own scope is unchanged.
   */
  async target(config: AuthHashConfigRecord, signal?: AbortSignal): Promise<AuthHashConfigRecord> {
    const from = config.tenantId;
    if (from === undefined) return config;
    this.met.add(from);
    const to = this.map[from] ?? from;
    this.existing ??= listTenants(this.conn, signal).then((ids) => new Set(ids));
    if (!(await this.existing).has(to)) {
      const mapped = to === from ? '' : ` (mapped from ${from} by --tenant-map)`;
      throw new AppError(
        'NOT_FOUND',
        `The backup holds users of tenant ${from}, but ${this.conn.projectId} has no tenant ${to}${mapped}. Tenant ids are chosen by the service: create a tenant in ${this.conn.projectId} and pass --tenant-map ${from}=<its id>. The users before this tenant's were restored.`,
      );
    }
    return to === from ? config : { ...config, tenantId: to };
  }

  /** Mappings that named a tenant the backup does not hold (a typo, most likely). */
  unused(): string[] {
    return Object.keys(this.map).filter((from) => !this.met.has(from));
  }
}

/** The users of a scope, carrying the target tenant's id. */
export async function* inTenant(
  users: AsyncIterable<AuthUserRecord>,
  tenantId: string | undefined,
): AsyncGenerator<AuthUserRecord> {
  for await (const user of users) {
    yield tenantId === undefined || user.tenantId === tenantId ? user : { ...user, tenantId };
  }
}
