import { describe, expect, test } from '@jest/globals';
import { MigrationSource } from '../../src/stores/database.js';
import { openTestStores, storeModes } from '../helpers/stores.js';

/** Migrations up to and without the canonical-address one: the database as an upgrade finds it. */
class MigrationsBefore extends MigrationSource {
  constructor(private readonly last: string) {
    super();
  }
  override async getMigrations(): Promise<string[]> {
    return (await super.getMigrations()).filter((file) => this.getMigrationName(file) <= this.last);
  }
}

/**
 * Migration 20261204_0005 (issue 20): addresses stored before it, as they were typed, become their
 * canonical form (src/policy/email-address.ts); what it cannot rewrite it leaves alone.
 */
describe.each(storeModes)('the canonical-address migration (%s)', (mode) => {
  test('rewrites stored addresses to the canonical form; leaves non-ASCII local parts and collisions', async () => {
    const stores = await openTestStores(mode);
    const db = stores.db;
    try {
      await db.migrate.latest({ migrationSource: new MigrationsBefore('20261204_0004_account_locale') });
      const [tenant] = await db('tenants').insert({ slug: 'zonnig', name: 'Zonnig' }).returning('id');
      const rows = [
        ['staff', 'Anna@Example.COM'],
        ['staff', ' Piet@Éxample.nl'],
        ['staff', 'kees@ｅxample.nl'],
        ['staff', 'kees@example.nl'],
        ['portal', 'Jörg@example.nl'],
        ['portal', 'lid@example.nl'],
      ];
      for (const [pool, email] of rows) await db('accounts').insert({ tenant_id: tenant.id, pool, email, name: '' });

      await db.migrate.latest({ migrationSource: new MigrationSource() });
      const after = (await db('accounts').select('pool', 'email').orderBy(['pool', 'email'])).map((r: { pool: string; email: string }) => `${r.pool} ${r.email}`);
      expect(after).toEqual([
        'portal Jörg@example.nl', // a non-ASCII local part: left, refused at every form now
        'portal lid@example.nl',
        'staff anna@example.com',
        'staff kees@example.nl',
        'staff kees@ｅxample.nl', // its canonical form is taken by the row above: left
        'staff piet@xn--xample-9ua.nl',
      ]);
      // the plain unique index holds the canonical forms apart
      await expect(db('accounts').insert({ tenant_id: tenant.id, pool: 'staff', email: 'anna@example.com', name: '' })).rejects.toThrow(/unique|duplicate/);
    } finally {
      await stores.dispose();
    }
  });
});
