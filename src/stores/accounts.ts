import { LRUCache } from 'lru-cache';
import { queryRows, type Database } from './database.js';
import { hasSecondFactor } from './second-factor-tables.js';
import type { Pool } from '../policy/tenant-policy.js';
import { canonicalEmail, canonicalEmailOrUndefined, EMAIL_PROBLEMS } from '../policy/email-address.js';
import type { Role } from '../policy/roles.js';
import { isLocale, type Locale } from '../locale.js';

export { ROLES, type Role } from '../policy/roles.js';

export interface Account {
  id: string;
  tenantId: string;
  pool: Pool;
  email: string;
  emailVerified: boolean;
  name: string;
  passwordHash: string | null;
  roles: Role[];
  disabled: boolean;
  twoFactorRequired: boolean;
  /** the language the holder last used on a screen; admins' notifications go out in it */
  locale: Locale;
}

interface Row {
  id: string;
  tenant_id: string;
  pool: Pool;
  email: string;
  email_verified: boolean;
  name: string;
  password_hash: string | null;
  roles: Role[];
  disabled: boolean;
  two_factor_required: boolean;
  locale?: string;
}

const toAccount = (r: Row): Account => ({
  id: r.id,
  tenantId: r.tenant_id,
  pool: r.pool,
  email: r.email,
  emailVerified: r.email_verified,
  name: r.name,
  passwordHash: r.password_hash,
  roles: r.roles ?? [],
  disabled: r.disabled,
  twoFactorRequired: r.two_factor_required,
  locale: isLocale(r.locale) ? r.locale : 'nl',
});

/** Addresses are stored in their canonical form only; the input paths refuse the others before this. */
function storedEmail(email: string): string {
  const check = canonicalEmail(email);
  if (!check.ok) throw new Error(`an e-mail address that ${EMAIL_PROBLEMS[check.problem]} reached the account store`);
  return check.address;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * How long findCachedWithTenantSlug may answer from this process's memory. oidc-provider's
 * account lookups use it (claims at every code exchange, refresh and userinfo request, and the
 * check that a session's account fits the client), where it saves a database round trip per
 * request, and the login screen that only shows the step a login is at. Changes made through this
 * store are seen at once (unless a read was under way during the write); a change made elsewhere —
 * another instance, the CLI, by hand — takes at most this long: a disabled account can still
 * redeem a code, refresh or read userinfo for up to 3 s on an instance that had just read it. The
 * login itself (every form it posts), the second factor and the management API never read from
 * this cache.
 */
export const ACCOUNT_CACHE_SECONDS = 3;
const ACCOUNT_CACHE_ENTRIES = 10_000;

type WithTenantSlug = { account: Account; tenantSlug: string };

export class AccountStore {
  // concurrent lookups of one account share one query; unknown ids are not kept
  private readonly cache = new LRUCache<string, WithTenantSlug>({
    max: ACCOUNT_CACHE_ENTRIES,
    ttl: ACCOUNT_CACHE_SECONDS * 1000,
    ignoreFetchAbort: true,
    fetchMethod: (id) => this.findByIdWithTenantSlug(id),
  });
  /** A tenant's slug never changes (nothing updates it), so it is kept for good. */
  private readonly tenantSlugs = new Map<string, string>();

  constructor(private readonly db: Database) {}

  /** Forgets what findCachedWithTenantSlug keeps of an account (every write here calls it). */
  private forget(id: string): void {
    this.cache.delete(id);
  }

  /** A fresh read refreshes the cache entry, so the token requests after a login skip a query. */
  private keep(account: Account): void {
    const tenantSlug = this.tenantSlugs.get(account.tenantId);
    if (tenantSlug) this.cache.set(account.id, { account, tenantSlug });
  }

  async create(input: {
    tenantId: string;
    pool: Pool;
    email: string;
    name?: string;
    passwordHash?: string | null;
    roles?: Role[];
    emailVerified?: boolean;
    disabled?: boolean;
    twoFactorRequired?: boolean;
  }): Promise<Account> {
    const [row] = await this.db<Row>('accounts')
      .insert({
        tenant_id: input.tenantId,
        pool: input.pool,
        email: storedEmail(input.email),
        name: input.name ?? '',
        password_hash: input.passwordHash ?? null,
        roles: JSON.stringify(input.pool === 'staff' ? (input.roles ?? []) : []) as never,
        email_verified: input.emailVerified ?? false,
        disabled: input.disabled ?? false,
        // requiring 2FA for one account is for staff only (docs/rules.md, rules 3 and 5)
        two_factor_required: input.pool === 'staff' && (input.twoFactorRequired ?? false),
      })
      .returning('*');
    return toAccount(row as Row);
  }

  /** E-mail is unique per tenant and pool in its canonical form (policy/email-address.ts); a refused address finds nothing. */
  async findByEmail(tenantId: string, pool: Pool, email: string): Promise<Account | undefined> {
    const address = canonicalEmailOrUndefined(email);
    if (address === undefined) return undefined;
    const [row] = await queryRows<Row>(this.db, 'select * from accounts where tenant_id = ? and pool = ? and email = ? limit 1', [tenantId, pool, address]);
    const account = row && toAccount(row);
    if (account) this.keep(account);
    return account;
  }

  async findById(id: string): Promise<Account | undefined> {
    if (!UUID.test(id)) return undefined;
    const [row] = await queryRows<Row>(this.db, 'select * from accounts where id = ? limit 1', [id]);
    const account = row && toAccount(row);
    if (account) this.keep(account);
    return account;
  }

  /**
   * An account with its tenant's slug in one query (oidc-provider asks for the account, and the
   * claims need the slug, at every code exchange, refresh and userinfo request).
   */
  async findByIdWithTenantSlug(id: string): Promise<WithTenantSlug | undefined> {
    if (!UUID.test(id)) return undefined;
    const [row] = await queryRows<Row & { tenant_slug: string }>(
      this.db,
      'select accounts.*, tenants.slug as tenant_slug from accounts join tenants on tenants.id = accounts.tenant_id where accounts.id = ? limit 1',
      [id],
    );
    if (!row) return undefined;
    this.tenantSlugs.set(row.tenant_id, row.tenant_slug);
    return { account: toAccount(row), tenantSlug: row.tenant_slug };
  }

  /** findByIdWithTenantSlug, answered from memory for up to ACCOUNT_CACHE_SECONDS (see there for what that means). */
  findCachedWithTenantSlug(id: string): Promise<WithTenantSlug | undefined> {
    return this.cache.fetch(id);
  }

  /** Accounts of a tenant, optionally of one pool and matching an e-mail address (case-insensitive). */
  async list(tenantId: string, filter: { pool?: Pool; email?: string } = {}): Promise<Account[]> {
    const q = this.db<Row>('accounts').where({ tenant_id: tenantId }).orderBy([{ column: 'pool' }, { column: 'email' }]).limit(1000);
    if (filter.pool) q.where({ pool: filter.pool });
    if (filter.email) {
      const address = canonicalEmailOrUndefined(filter.email);
      if (address === undefined) return [];
      q.where({ email: address });
    }
    return (await q).map(toAccount);
  }

  async update(
    id: string,
    patch: { name?: string; email?: string; emailVerified?: boolean; roles?: Role[]; disabled?: boolean; twoFactorRequired?: boolean; locale?: Locale },
  ): Promise<Account | undefined> {
    const changes: Record<string, unknown> = { updated_at: this.db.fn.now() };
    if (patch.name !== undefined) changes.name = patch.name;
    if (patch.email !== undefined) changes.email = storedEmail(patch.email);
    if (patch.emailVerified !== undefined) changes.email_verified = patch.emailVerified;
    if (patch.roles !== undefined) changes.roles = JSON.stringify(patch.roles);
    if (patch.disabled !== undefined) changes.disabled = patch.disabled;
    if (patch.twoFactorRequired !== undefined) changes.two_factor_required = patch.twoFactorRequired;
    if (patch.locale !== undefined) changes.locale = patch.locale;
    const [row] = await this.db<Row>('accounts').where({ id }).update(changes).returning('*');
    this.forget(id);
    return row && toAccount(row as Row);
  }

  /** Active staff of a tenant without 2FA: who a tenant-wide requirement affects at once. */
  async staffWithoutTwoFactor(tenantId: string): Promise<Account[]> {
    const rows: Row[] = await this.db('accounts')
      .where({ 'accounts.tenant_id': tenantId, 'accounts.pool': 'staff', 'accounts.disabled': false })
      .whereRaw('not ?', [hasSecondFactor(this.db)])
      .select('accounts.*');
    return rows.map(toAccount);
  }

  /** Accounts with and without 2FA per pool (disabled accounts left out). */
  async twoFactorStats(tenantId: string): Promise<Record<Pool, { with_two_factor: number; without_two_factor: number }>> {
    const rows = await this.db('accounts')
      .where({ 'accounts.tenant_id': tenantId, 'accounts.disabled': false })
      .groupBy('accounts.pool')
      .select('accounts.pool as pool')
      .count({ total: '*' })
      .select(this.db.raw('count(*) filter (where ?) as enabled', [hasSecondFactor(this.db)]));
    const stats = { staff: { with_two_factor: 0, without_two_factor: 0 }, portal: { with_two_factor: 0, without_two_factor: 0 } };
    for (const row of rows as { pool: Pool; total: string | number; enabled: string | number }[]) {
      stats[row.pool] = { with_two_factor: Number(row.enabled), without_two_factor: Number(row.total) - Number(row.enabled) };
    }
    return stats;
  }

  async markEmailVerified(id: string): Promise<void> {
    await this.db('accounts').where({ id }).update({ email_verified: true, updated_at: this.db.fn.now() });
    this.forget(id);
  }

  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.db('accounts').where({ id }).update({ password_hash: passwordHash, updated_at: this.db.fn.now() });
    this.forget(id);
  }

  async count(): Promise<number> {
    const [{ count }] = (await this.db('accounts').count({ count: '*' })) as [{ count: string | number }];
    return Number(count);
  }

  /**
   * One page of a pool's accounts (by e-mail), optionally those whose e-mail or name contains
   * `query` (case-insensitive, taken literally), and how many match in all: the admin console's lists.
   */
  async search(tenantId: string, filter: { pool: Pool; query?: string; offset: number; limit: number }): Promise<{ accounts: Account[]; total: number }> {
    const matching = () => {
      const q = this.db<Row>('accounts').where({ tenant_id: tenantId, pool: filter.pool });
      const text = filter.query?.trim();
      if (text) {
        const pattern = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        q.where((w) => w.whereRaw('email ilike ?', [pattern]).orWhereRaw('name ilike ?', [pattern]));
      }
      return q;
    };
    const [rows, [{ count }]] = await Promise.all([
      matching().orderBy('email').offset(filter.offset).limit(filter.limit),
      matching().count({ count: '*' }) as unknown as Promise<[{ count: string | number }]>,
    ]);
    return { accounts: (rows as Row[]).map(toAccount), total: Number(count) };
  }
}
