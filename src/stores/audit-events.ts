import { queryRows, type Database } from './database.js';

/**
 * Every kind of audit event, grouped by what it concerns. `two_factor.*` are changes to an
 * account's 2FA (enabled, disabled, reset, required); `second_factor.*` are the checks of a factor
 * in a login's challenge (its `details.kind` says which: `code`, `recovery_code`). The names are a
 * contract: /manage/v1/…/audit-events filters by them and /metrics counts them.
 */
export const AUDIT_EVENT_TYPES = [
  'login.succeeded',
  'login.failed',
  'login.refused_locked',
  'second_factor.succeeded',
  'second_factor.failed',
  'second_factor.refused_locked',
  'two_factor.enabled',
  'two_factor.disabled',
  'two_factor.reset',
  'two_factor.recovery_used',
  'two_factor.requirement_changed',
  'two_factor.browser_forgotten',
  'passkey.added',
  'passkey.removed',
  'passkey.used',
  'passkey.refused',
  'passkey.cloned',
  'account.created',
  'account.updated',
  'account.unblocked',
  'account.locked',
  'account.imported',
  'account.email_change_requested',
  'account.email_changed',
  'account_page.unlock_failed',
  'password.changed',
  'password.reset',
  'password.reset_requested',
  'password.reset_rate_limited',
  'password.set_from_invitation',
  'tenant.policy_changed',
  'admin.refused',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export interface AuditEvent {
  type: AuditEventType;
  tenantId?: string | null;
  accountId?: string | null;
  /** who did it: `account:<id>`, `client:<id>`, `cli`, or `anonymous` */
  actor: string;
  ip?: string | null;
  details?: Record<string, unknown>;
}

/** Every security event is written here (docs/rules.md § Security bar): actor, account, IP and time. */
export class AuditLog {
  private readonly listeners: ((type: AuditEventType, details: Record<string, unknown>) => void)[] = [];

  constructor(private readonly db: Database) {}

  /** Metrics count what the audit log records. */
  onRecord(listener: (type: AuditEventType, details: Record<string, unknown>) => void): void {
    this.listeners.push(listener);
  }

  /** Events that happened together are written in one statement (one commit, one round trip). */
  async record(...events: AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    for (const event of events) for (const listener of this.listeners) listener(event.type, event.details ?? {});
    const rows = events.map(() => '(?, ?, ?, ?, ?, ?)').join(', ');
    await queryRows(
      this.db,
      `insert into audit_events (type, tenant_id, account_id, actor, ip, details) values ${rows}`,
      events.flatMap((event) => [event.type, event.tenantId ?? null, event.accountId ?? null, event.actor, event.ip ?? null, JSON.stringify(event.details ?? {})]),
    );
  }

  /** Newest first, at most `limit` (default 500). */
  async list(filter: { tenantId?: string; accountId?: string; type?: string; since?: Date; limit?: number }): Promise<(AuditEvent & { id: number; createdAt: Date })[]> {
    const q = this.db('audit_events').orderBy('id', 'desc').limit(filter.limit ?? 500);
    if (filter.tenantId) q.where('tenant_id', filter.tenantId);
    if (filter.accountId) q.where('account_id', filter.accountId);
    if (filter.type) q.where('type', filter.type);
    if (filter.since) q.where('created_at', '>=', filter.since);
    const rows = await q;
    return rows.map((r: Record<string, unknown>) => ({
      id: Number(r.id),
      type: r.type as AuditEventType,
      tenantId: r.tenant_id as string | null,
      accountId: r.account_id as string | null,
      actor: r.actor as string,
      ip: r.ip as string | null,
      details: r.details as Record<string, unknown>,
      createdAt: new Date(r.created_at as string),
    }));
  }
}
