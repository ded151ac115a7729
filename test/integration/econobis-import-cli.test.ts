import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { hashRecoveryCode } from '../../src/factors/recovery-code.js';
import { openDatabase, type Database } from '../../src/stores/database.js';
import { runSleutel, type CliResult } from '../helpers/cli.js';
import { buildEconobisExport } from '../helpers/econobis-export.js';
import { appKeyText, newAppKey } from '../helpers/laravel.js';
import { TEST_KEYS } from '../helpers/server.js';
import { createDatabase } from '../helpers/stores.js';

/**
 * `sleutel import econobis` as an operator runs it, in a child process, against embedded PGlite
 * under a fresh DATA_DIR and, when DATABASE_URL is set, a fresh Postgres database. The tests of a
 * mode build on each other; the database is opened only between CLI runs (PGlite is one-process).
 */

const modes = process.env.DATABASE_URL ? (['embedded', 'postgres'] as const) : (['embedded'] as const);
const TIMEOUT = 120_000;

function jsonOf(result: CliResult): Record<string, unknown> {
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  expect(result.stdout).toMatch(/^[^\n]+\n$/);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

describe.each(modes)('sleutel import econobis (%s)', (mode) => {
  const key = newAppKey();
  const { file, people } = buildEconobisExport(key);
  let dataDir: string;
  let exportFile: string;
  let database: { url: string; drop(): Promise<void> } | undefined;
  let env: Record<string, string>;
  const cli = (args: string[], extraEnv: Record<string, string> = {}) => runSleutel(args, { ...env, ...extraEnv });
  const importArgs = () => ['import', 'econobis', '--tenant', 'zonnig', '--file', exportFile];

  /** Counts rows of the tables an import writes; the database is closed again before the next CLI run. */
  async function counts(): Promise<Record<string, number>> {
    const db: Database = database ? openDatabase({ url: database.url, poolMax: 2 }) : openDatabase({ dataDir });
    try {
      const result: Record<string, number> = {};
      for (const table of ['accounts', 'totp_credentials', 'recovery_codes', 'import_marks']) {
        result[table] = Number(((await db(table).count({ n: '*' })) as [{ n: string | number }])[0].n);
      }
      return result;
    } finally {
      await db.destroy();
    }
  }

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sleutel-import-'));
    exportFile = path.join(dataDir, 'econobis-export.json');
    fs.writeFileSync(exportFile, JSON.stringify(file));
    env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.homedir(), TMPDIR: os.tmpdir(), DATA_DIR: dataDir, ...TEST_KEYS };
    if (mode === 'postgres') {
      database = await createDatabase();
      env.DATABASE_URL = database.url;
    }
    jsonOf(await cli(['tenant', 'add', 'zonnig', '--name', 'Coöperatie Zonnig', '--json']));
  }, TIMEOUT);
  afterAll(async () => {
    await database?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test(
    '--dry-run with the key from ECONOBIS_APP_KEY reports and writes nothing',
    async () => {
      const report = jsonOf(await cli([...importArgs(), '--dry-run', '--json'], { ECONOBIS_APP_KEY: appKeyText(key) }));
      expect(report).toMatchObject({
        tenant: 'zonnig',
        dry_run: true,
        counts: { staff: { create: 5, update: 0, unchanged: 0, refused: 5 }, portal: { create: 3, update: 0, unchanged: 0, refused: 0 } },
        policy: { require_two_factor_for_all_staff: { from: false, to: true } },
      });
      expect((report.refused as { econobis_id: number }[]).map((r) => r.econobis_id)).toEqual([4, 5, 6, 7, 8]);
      expect(await counts()).toEqual({ accounts: 0, totp_credentials: 0, recovery_codes: 0, import_marks: 0 });
    },
    TIMEOUT,
  );

  test(
    'the import with --app-key, then again: the second run changes nothing',
    async () => {
      const first = jsonOf(await cli([...importArgs(), '--app-key', appKeyText(key), '--json']));
      expect(first).toMatchObject({ dry_run: false, counts: { staff: { create: 5, refused: 5 }, portal: { create: 3 } } });
      const stored = await counts();
      // anna and lid1 have 2FA with a recovery code; a mark per part per account, and one for the policy
      expect(stored).toEqual({ accounts: 8, totp_credentials: 2, recovery_codes: 2, import_marks: 8 * 3 + 1 });

      const second = await cli([...importArgs(), '--app-key', appKeyText(key)]);
      expect(second.code).toBe(0);
      expect(second.stdout).toContain('staff: 0 created, 0 updated, 5 unchanged, 5 refused');
      expect(second.stdout).toContain('portal: 0 created, 0 updated, 3 unchanged, 0 refused');
      expect(second.stdout).toMatch(/refused staff eva@zonnig\.example \(#5\): unknown role "Medewerker"/);
      expect(await counts()).toEqual(stored);
    },
    TIMEOUT,
  );

  test(
    'what the CLI stored: the recovery code hash and the bcrypt hash as Econobis had them',
    async () => {
      const db: Database = database ? openDatabase({ url: database.url, poolMax: 2 }) : openDatabase({ dataDir });
      try {
        const anna = await db('accounts').whereRaw('lower(email) = ?', ['anna@zonnig.example']).andWhere({ pool: 'staff' }).first();
        expect(anna.password_hash).toMatch(/^\$2y\$10\$/);
        expect(anna.roles).toEqual(['key_user', 'coop_admin']);
        expect((await db('recovery_codes').where({ account_id: anna.id }).first()).code_hash).toBe(hashRecoveryCode(people.anna.recoveryCode!));
        expect((await db('tenants').where({ slug: 'zonnig' }).first()).policy).toMatchObject({ require_two_factor_for_all_staff: true });
      } finally {
        await db.destroy();
      }
    },
    TIMEOUT,
  );

  test.each([
    ['a wrong APP_KEY', () => ['--app-key', appKeyText(newAppKey())], /^sleutel: nothing imported: the APP_KEY does not fit this export/],
    ['no APP_KEY at all', () => [], /^sleutel: nothing imported: the export holds encrypted 2FA data: give the Econobis APP_KEY/],
    ['an APP_KEY of the wrong length', () => ['--app-key', 'base64:c2hvcnQ='], /^sleutel: nothing imported: the APP_KEY must be "base64:"/],
    ['a file that is not there', () => ['--app-key', appKeyText(key), '--file', path.join(dataDir, 'missing.json')], /^sleutel: cannot read the export .*missing\.json/],
  ])(
    'refuses %s with one line, writing nothing',
    async (_what, extra, message) => {
      const before = await counts();
      const result = await cli([...importArgs(), ...extra()]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^[^\n]+\n$/);
      expect(result.stderr).toMatch(message);
      expect(await counts()).toEqual(before);
    },
    TIMEOUT,
  );

  test(
    'an unknown tenant is refused like for the other commands',
    async () => {
      const result = await cli(['import', 'econobis', '--tenant', 'bestaat-niet', '--file', exportFile, '--json']);
      expect(result.code).toBe(1);
      expect(JSON.parse(result.stderr)).toEqual({ error: expect.stringMatching(/tenant "bestaat-niet" does not exist/) });
    },
    TIMEOUT,
  );
});
