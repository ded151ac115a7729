import type { SecretBox } from '../crypto/secret-box.js';
import { queryRows, type Database } from './database.js';
import { FACTOR_TABLES, STANDALONE_FACTOR_TABLES } from './second-factor-tables.js';

export interface TotpCredential {
  secret: string;
  confirmedAt: Date;
  lastTimeStep: number;
}

/**
 * The second factors' credentials: confirmed TOTP secrets and recovery codes; whether an account has
 * 2FA at all asks every factor's table. The time step is recorded with a conditional
 * update, so of two requests (on any instances) with the same code exactly one is accepted.
 */
export class SecondFactorStore {
  constructor(
    private readonly db: Database,
    private readonly box: SecretBox,
  ) {}

  private context(accountId: string) {
    return `totp:${accountId}`;
  }

  async findTotp(accountId: string): Promise<TotpCredential | undefined> {
    const [row] = await queryRows<{ secret_sealed: string; confirmed_at: Date | string; last_time_step: number | string }>(
      this.db,
      'select secret_sealed, confirmed_at, last_time_step from totp_credentials where account_id = ? limit 1',
      [accountId],
    );
    if (!row) return undefined;
    return {
      secret: this.box.open(row.secret_sealed, this.context(accountId)).toString('utf8'),
      confirmedAt: new Date(row.confirmed_at),
      lastTimeStep: Number(row.last_time_step),
    };
  }

  /** "2FA enabled": a confirmed credential of a factor that stands on its own (src/stores/second-factor-tables.ts). */
  async isEnabled(accountId: string): Promise<boolean> {
    return (await this.enabledAmong([accountId])).has(accountId);
  }

  /** Which of these accounts have 2FA (for lists and statistics). */
  async enabledAmong(accountIds: string[]): Promise<Set<string>> {
    if (accountIds.length === 0) return new Set();
    const found = await Promise.all(STANDALONE_FACTOR_TABLES.map((table) => this.db(table).whereIn('account_id', accountIds).distinct('account_id')));
    return new Set(found.flat().map((r: { account_id: string }) => r.account_id));
  }

  /** Which factor tables hold a row for each of these accounts (src/stores/second-factor-tables.ts), for the admin views. */
  async tablesAmong(accountIds: string[]): Promise<Map<string, Set<string>>> {
    const found = new Map<string, Set<string>>();
    if (accountIds.length === 0) return found;
    const rows = await Promise.all(FACTOR_TABLES.map(async ({ table }) => ({ table, ids: await this.db(table).whereIn('account_id', accountIds).distinct('account_id') })));
    for (const { table, ids } of rows) for (const { account_id } of ids as { account_id: string }[]) found.set(account_id, (found.get(account_id) ?? new Set()).add(table));
    return found;
  }

  /**
   * Enables 2FA: the confirmed secret with the step of the confirming code, and the recovery code's
   * hash, in one transaction. False when 2FA was enabled meanwhile (a second tab), changing nothing.
   */
  async enable(accountId: string, secret: string, timeStep: number, recoveryCodeHash: string): Promise<boolean> {
    return this.db.transaction(async (trx) => {
      const inserted = await trx('totp_credentials')
        .insert({ account_id: accountId, secret_sealed: this.box.seal(secret, this.context(accountId)), last_time_step: timeStep })
        .onConflict('account_id')
        .ignore()
        .returning('account_id');
      if (inserted.length === 0) return false;
      await trx('recovery_codes').insert({ account_id: accountId, code_hash: recoveryCodeHash }).onConflict('account_id').merge();
      return true;
    });
  }

  /**
   * Writes a TOTP credential taken over from another system (the Econobis import), replacing one
   * that exists, with its recovery code's hash or none. Unlike enable() it keeps the source's
   * confirmation time and replaces: an import that runs again brings over what changed there.
   */
  async putImported(accountId: string, input: { secret: string; confirmedAt: Date; lastTimeStep: number; recoveryCodeHash: string | null }): Promise<void> {
    await this.db.transaction(async (trx) => {
      const row = { account_id: accountId, secret_sealed: this.box.seal(input.secret, this.context(accountId)), confirmed_at: input.confirmedAt, last_time_step: input.lastTimeStep };
      await trx('totp_credentials').insert(row).onConflict('account_id').merge();
      if (input.recoveryCodeHash === null) await trx('recovery_codes').where({ account_id: accountId }).delete();
      else await trx('recovery_codes').insert({ account_id: accountId, code_hash: input.recoveryCodeHash }).onConflict('account_id').merge();
    });
  }

  /** Records an accepted time step; false when this or a later step was already accepted (replay). */
  async acceptTimeStep(accountId: string, timeStep: number): Promise<boolean> {
    const updated = await queryRows(
      this.db,
      'update totp_credentials set last_time_step = ? where account_id = ? and last_time_step < ? returning account_id',
      [timeStep, accountId, timeStep],
    );
    return updated.length === 1;
  }

  async recoveryCodeHash(accountId: string): Promise<string | undefined> {
    const row = await this.db('recovery_codes').where({ account_id: accountId }).first('code_hash');
    return row?.code_hash;
  }

  /**
   * Gives an account a recovery code when it has none (its first factor was set up in one call, as
   * a passkey is); false, changing nothing, when it has one already.
   */
  async keepRecoveryCode(accountId: string, codeHash: string): Promise<boolean> {
    const inserted = await this.db('recovery_codes').insert({ account_id: accountId, code_hash: codeHash }).onConflict('account_id').ignore().returning('account_id');
    return inserted.length === 1;
  }

  /**
   * Uses the recovery code: true for exactly one caller, even when two race. (`returning` rather
   * than the delete count: knex-pglite does not report a count for deletes.)
   */
  async consumeRecoveryCode(accountId: string, codeHash: string): Promise<boolean> {
    const deleted = await this.db('recovery_codes').where({ account_id: accountId, code_hash: codeHash }).delete().returning('account_id');
    return deleted.length === 1;
  }

  /**
   * Removes every factor's credentials (disable, reset, recovery), in one transaction; the
   * recovery code first. True when 2FA was enabled.
   */
  async remove(accountId: string): Promise<boolean> {
    return this.db.transaction(async (trx) => {
      let enabled = false;
      for (const { table, standalone } of [...FACTOR_TABLES].sort((a, b) => Number(a.standalone) - Number(b.standalone))) {
        const deleted = await trx(table).where({ account_id: accountId }).delete().returning('account_id');
        if (standalone && deleted.length > 0) enabled = true;
      }
      return enabled;
    });
  }

  async reencrypt(): Promise<number> {
    let changed = 0;
    for (const row of await this.db('totp_credentials').select('account_id', 'secret_sealed')) {
      if (!this.box.isStale(row.secret_sealed)) continue;
      const clear = this.box.open(row.secret_sealed, this.context(row.account_id));
      await this.db('totp_credentials').where({ account_id: row.account_id }).update({ secret_sealed: this.box.seal(clear, this.context(row.account_id)) });
      changed += 1;
    }
    return changed;
  }
}
