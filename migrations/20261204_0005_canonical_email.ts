import { domainToASCII } from 'node:url';
import type { Knex } from 'knex';

/**
 * Accounts' addresses in their canonical form (issue 20; the rule lives in
 * src/policy/email-address.ts, which this migration does not import so that it stays as it was
 * written): lowercase ASCII local part, the domain through IDNA. Until now rows were matched with
 * Postgres' lower(), which depends on the database's LC_CTYPE. Addresses with a non-ASCII local
 * part, and rows whose canonical form another row of the pool already has, are left as they are
 * (no form can reach them any more; an admin gives them a usable address). The plain unique index
 * is what lookups use now; the lower(email) one stays as it was.
 */
export async function up(knex: Knex): Promise<void> {
  // ASCII addresses: lower() of ASCII is the same under every locale
  await knex.raw(`
    update accounts a set email = lower(btrim(a.email))
    where a.email ~ '^[\\x21-\\x7e]+$' and a.email <> lower(a.email)
      and not exists (select 1 from accounts b where b.tenant_id = a.tenant_id and b.pool = a.pool and b.id <> a.id and b.email = lower(btrim(a.email)))`);
  const rows = (await knex('accounts').select('id', 'tenant_id', 'pool', 'email').whereRaw("email !~ '^[\\x21-\\x7e]+$'")) as { id: string; tenant_id: string; pool: string; email: string }[];
  for (const row of rows) {
    const text = row.email.trim().normalize('NFC');
    const at = text.lastIndexOf('@');
    const local = text.slice(0, at);
    if (at <= 0 || /[^\x21-\x7e]/.test(local)) continue;
    const domain = domainToASCII(text.slice(at + 1));
    if (!domain) continue;
    const address = `${local.toLowerCase()}@${domain}`;
    const taken = await knex('accounts').where({ tenant_id: row.tenant_id, pool: row.pool, email: address }).whereNot({ id: row.id }).first();
    if (!taken) await knex('accounts').where({ id: row.id }).update({ email: address });
  }
  await knex.raw('create unique index accounts_tenant_pool_email_exact on accounts (tenant_id, pool, email)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists accounts_tenant_pool_email_exact');
}
