import type { Knex } from 'knex';

/**
 * Where the second factors keep their credentials, one row (or more) per account. A row in a
 * `standalone` table means "2FA enabled"; the recovery code's table is not one (a recovery code
 * exists only beside another factor). A new factor's migration adds its table here, and every
 * question of "has 2FA" — SecondFactorStore's, the lists and statistics in AccountStore — and the
 * removal on disable, reset and recovery follow.
 */
export const FACTOR_TABLES: readonly { table: string; standalone: boolean }[] = [
  { table: 'totp_credentials', standalone: true },
  { table: 'recovery_codes', standalone: false },
  { table: 'passkey_credentials', standalone: true },
];

export const STANDALONE_FACTOR_TABLES = FACTOR_TABLES.filter((t) => t.standalone).map((t) => t.table);

/** `(exists (…) or …)`: whether the account in `accountIdColumn` has 2FA, as SQL for a where clause or a count. */
export function hasSecondFactor(db: Knex, accountIdColumn = 'accounts.id'): Knex.Raw {
  const one = 'exists (select 1 from ?? where ??.account_id = ??)';
  return db.raw(`(${STANDALONE_FACTOR_TABLES.map(() => one).join(' or ')})`, STANDALONE_FACTOR_TABLES.flatMap((table) => [table, table, accountIdColumn]));
}
