import type { Knex } from 'knex';

/**
 * What an import last took over from another system (Econobis), per tenant, subject (an account id,
 * or `cooperation` for the tenant policy) and part (profile, password, two_factor, policy), as a
 * SHA-256 fingerprint of the source values. A later run changes a part only when the source changed
 * since, so it never undoes what happened in Sleutel meanwhile (a rehashed password, a 2FA reset).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('import_marks', (t) => {
    t.uuid('tenant_id').notNullable().references('tenants.id').onDelete('CASCADE');
    t.string('source', 32).notNullable();
    t.string('subject', 64).notNullable();
    t.string('part', 16).notNullable();
    t.string('fingerprint', 64).notNullable();
    t.timestamp('imported_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['tenant_id', 'source', 'subject', 'part']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('import_marks');
}
