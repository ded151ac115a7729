import { afterAll, describe, expect, test } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate, openDatabase, queryRows } from '../../src/stores/database.js';

/** The embedded database (PGlite under DATA_DIR): how it is opened, and that its data stays. */
describe('embedded database', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sleutel-embedded-db-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  test('opens with a small buffer pool, migrates, and finds its rows again after a reopen', async () => {
    const first = openDatabase({ dataDir });
    try {
      const [setting] = await queryRows<{ shared_buffers: string }>(first, 'show shared_buffers');
      expect(setting!.shared_buffers).toBe('16MB');
      expect((await migrate(first)).length).toBeGreaterThan(0);
      await first('tenants').insert({ slug: 'zonnig', name: 'Zonnig' });
    } finally {
      await first.destroy();
    }
    expect(fs.existsSync(path.join(dataDir, 'pg', 'PG_VERSION'))).toBe(true);

    const again = openDatabase({ dataDir });
    try {
      expect(await migrate(again)).toEqual([]); // all recorded: nothing to apply
      expect(await again('tenants').pluck('slug')).toEqual(['zonnig']);
    } finally {
      await again.destroy();
    }
  });

  test('an in-memory database (no DATA_DIR) has the same settings', async () => {
    const db = openDatabase({});
    try {
      const [setting] = await queryRows<{ shared_buffers: string }>(db, 'show shared_buffers');
      expect(setting!.shared_buffers).toBe('16MB');
    } finally {
      await db.destroy();
    }
  });
});
