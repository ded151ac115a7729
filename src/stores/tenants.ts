import type { Database } from './database.js';
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

export class TenantStore {
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

  async findById(id: string): Promise<Tenant | undefined> {
    const row = await this.db<Row>('tenants').where({ id }).first();
    return row && toTenant(row);
  }

  async updatePolicy(id: string, policy: TenantPolicy): Promise<void> {
    await this.db('tenants').where({ id }).update({ policy: JSON.stringify(policy) });
  }

  async count(): Promise<number> {
    const [{ count }] = (await this.db('tenants').count({ count: '*' })) as [{ count: string | number }];
    return Number(count);
  }
}
