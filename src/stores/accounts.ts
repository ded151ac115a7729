import type { Database } from './database.js';
import type { Pool } from '../policy/tenant-policy.js';

export type Role = 'key_user' | 'coop_admin';
export const ROLES: readonly Role[] = ['key_user', 'coop_admin'];

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
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class AccountStore {
  constructor(private readonly db: Database) {}

  async create(input: {
    tenantId: string;
    pool: Pool;
    email: string;
    name?: string;
    passwordHash?: string | null;
    roles?: Role[];
    emailVerified?: boolean;
  }): Promise<Account> {
    const [row] = await this.db<Row>('accounts')
      .insert({
        tenant_id: input.tenantId,
        pool: input.pool,
        email: input.email.trim(),
        name: input.name ?? '',
        password_hash: input.passwordHash ?? null,
        roles: JSON.stringify(input.pool === 'staff' ? (input.roles ?? []) : []) as never,
        email_verified: input.emailVerified ?? false,
      })
      .returning('*');
    return toAccount(row as Row);
  }

  /** E-mail is unique per tenant and pool, compared case-insensitively. */
  async findByEmail(tenantId: string, pool: Pool, email: string): Promise<Account | undefined> {
    const row = await this.db<Row>('accounts')
      .where({ tenant_id: tenantId, pool })
      .whereRaw('lower(email) = lower(?)', [email.trim()])
      .first();
    return row && toAccount(row);
  }

  async findById(id: string): Promise<Account | undefined> {
    if (!UUID.test(id)) return undefined;
    const row = await this.db<Row>('accounts').where({ id }).first();
    return row && toAccount(row);
  }

  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.db('accounts').where({ id }).update({ password_hash: passwordHash, updated_at: this.db.fn.now() });
  }

  async count(): Promise<number> {
    const [{ count }] = (await this.db('accounts').count({ count: '*' })) as [{ count: string | number }];
    return Number(count);
  }
}
