import { LRUCache } from 'lru-cache';
import { queryRows, type Database } from './database.js';
import { withDefaults, type TenantPolicy } from '../policy/tenant-policy.js';

export interface Tenant {
  id: string;
  slug: string;
  name: string;
  policy: TenantPolicy;
}

interface Row {
  id: string;
  slug: string;
  name: string;
  policy: Partial<TenantPolicy> | null;
}

const toTenant = (row: Row): Tenant => ({ id: row.id, slug: row.slug, name: row.name, policy: withDefaults(row.policy) });

/**
 * How long findRecent may answer from this process's memory. A tenant's id, slug and name never
 * change; its policy may, so findRecent is for the screens (the cooperative's name, the label in
 * an authenticator app) and every decision the policy drives — is 2FA required, is this browser
 * still remembered — reads it with findById. Saves four of the five tenant reads of a login.
 */
export const TENANT_CACHE_SECONDS = 5;

export class TenantStore {
  private readonly recent = new LRUCache<string, Tenant>({
    max: 1000,
    ttl: TENANT_CACHE_SECONDS * 1000,
    ignoreFetchAbort: true,
    fetchMethod: (id) => this.read(id),
  });

  constructor(private readonly db: Database) {}

  async create(input: { slug: string; name: string; policy?: Partial<TenantPolicy> }): Promise<Tenant> {
    const [row] = await this.db<Row>('tenants')
      .insert({ slug: input.slug, name: input.name, policy: JSON.stringify(input.policy ?? {}) as never })
      .returning(['id', 'slug', 'name', 'policy']);
    return toTenant(row as Row);
  }

  async findBySlug(slug: string): Promise<Tenant | undefined> {
    const row = await this.db<Row>('tenants').where({ slug }).first();
    return row && toTenant(row);
  }

  /** The tenant as stored now: for every decision its policy drives (a policy change applies at once). */
  async findById(id: string): Promise<Tenant | undefined> {
    const tenant = await this.read(id);
    if (tenant) this.recent.set(tenant.id, tenant);
    return tenant;
  }

  /** The tenant for showing it, its policy up to TENANT_CACHE_SECONDS old (see there). */
  findRecent(id: string): Promise<Tenant | undefined> {
    return this.recent.fetch(id);
  }

  private async read(id: string): Promise<Tenant | undefined> {
    const [row] = await queryRows<Row>(this.db, 'select id, slug, name, policy from tenants where id = ? limit 1', [id]);
    return row && toTenant(row);
  }

  async updatePolicy(id: string, policy: TenantPolicy): Promise<void> {
    await this.db('tenants').where({ id }).update({ policy: JSON.stringify(policy) });
    this.recent.delete(id);
  }

  async count(): Promise<number> {
    const [{ count }] = (await this.db('tenants').count({ count: '*' })) as [{ count: string | number }];
    return Number(count);
  }
}
