import type { Knex } from 'knex';

/**
 * Passkeys (WebAuthn credentials) as a second factor, several per account (issue 21). A row exists
 * only for a registration the server verified; its challenge lived in the key-value store. The
 * counter and the backup flags are kept to check every later assertion (src/factors/passkey/).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('passkey_credentials', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('account_id').notNullable().references('accounts.id').onDelete('CASCADE');
    // base64url of the authenticator's credential id (at most 1023 bytes by WebAuthn): one
    // credential belongs to one account, so it is unique across all of them
    t.string('credential_id', 1400).notNullable().unique();
    // the COSE public key as the authenticator gave it
    t.binary('public_key').notNullable();
    // the signature counter (uint32); 0 for authenticators that keep none
    t.bigInteger('counter').notNullable().defaultTo(0);
    t.jsonb('transports').notNullable().defaultTo('[]');
    t.enu('device_type', ['singleDevice', 'multiDevice']).notNullable();
    t.boolean('backed_up').notNullable();
    // the holder's label, e.g. "iPhone Anna"
    t.string('name', 100).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_used_at', { useTz: true });
    t.index(['account_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('passkey_credentials');
}
