import type { Knex } from 'knex';

/**
 * The language an account last used on a screen: mails that nobody triggered from a screen (an
 * admin's action on the account) go out in it. Dutch until the holder signs in otherwise.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (t) => {
    t.string('locale', 8).notNullable().defaultTo('nl');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (t) => {
    t.dropColumn('locale');
  });
}
