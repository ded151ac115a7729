import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('tenants', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.string('slug', 63).notNullable().unique();
    t.string('name', 200).notNullable();
    // Policy as data (docs/rules.md § Terms): require_two_factor_for_all_staff,
    // remember_two_factor_hours per pool, …
    t.jsonb('policy').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('accounts', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('tenant_id').notNullable().references('tenants.id').onDelete('CASCADE');
    t.string('pool', 16).notNullable();
    t.string('email', 320).notNullable();
    t.boolean('email_verified').notNullable().defaultTo(false);
    t.string('name', 200).notNullable().defaultTo('');
    t.text('password_hash');
    t.jsonb('roles').notNullable().defaultTo('[]');
    t.boolean('disabled').notNullable().defaultTo(false);
    t.boolean('two_factor_required').notNullable().defaultTo(false);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`alter table accounts add constraint accounts_pool_check check (pool in ('staff', 'portal'))`);
  await knex.raw('create unique index accounts_tenant_pool_email on accounts (tenant_id, pool, lower(email))');

  await knex.schema.createTable('clients', (t) => {
    t.string('client_id', 128).primary();
    t.uuid('tenant_id').notNullable().references('tenants.id').onDelete('CASCADE');
    // null for a service client (client_credentials only, management API)
    t.string('pool', 16);
    t.text('secret_sealed');
    t.jsonb('redirect_uris').notNullable().defaultTo('[]');
    t.jsonb('post_logout_redirect_uris').notNullable().defaultTo('[]');
    t.text('backchannel_logout_uri');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`alter table clients add constraint clients_pool_check check (pool is null or pool in ('staff', 'portal'))`);

  await knex.schema.createTable('signing_keys', (t) => {
    t.string('kid', 64).primary();
    t.string('alg', 16).notNullable();
    t.text('private_jwk_sealed').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // set when a newer key takes over: kept in the JWKS until the tokens it signed have expired
    t.timestamp('retire_after', { useTz: true });
  });

  await knex.schema.createTable('audit_events', (t) => {
    t.bigIncrements('id');
    t.uuid('tenant_id').references('tenants.id').onDelete('CASCADE');
    t.uuid('account_id');
    t.string('type', 64).notNullable();
    t.string('actor', 200).notNullable();
    t.string('ip', 64);
    t.jsonb('details').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['tenant_id', 'created_at']);
    t.index(['account_id', 'created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['audit_events', 'signing_keys', 'clients', 'accounts', 'tenants']) {
    await knex.schema.dropTableIfExists(table);
  }
}
