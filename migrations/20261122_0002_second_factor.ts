import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // A row exists only for a confirmed TOTP: enrollment keeps its pending secret in the key-value
  // store until a code confirms it, so an abandoned enrollment leaves nothing here.
  await knex.schema.createTable('totp_credentials', (t) => {
    t.uuid('account_id').primary().references('accounts.id').onDelete('CASCADE');
    t.text('secret_sealed').notNullable();
    t.timestamp('confirmed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // the last accepted RFC 6238 time step: a code of this step or earlier is a replay
    t.bigInteger('last_time_step').notNullable();
  });

  // One recovery code per account, stored only as a SHA-256 hash (it has ≥ 100 bits of entropy).
  await knex.schema.createTable('recovery_codes', (t) => {
    t.uuid('account_id').primary().references('accounts.id').onDelete('CASCADE');
    t.string('code_hash', 64).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('recovery_codes');
  await knex.schema.dropTableIfExists('totp_credentials');
}
