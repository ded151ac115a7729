import { queryRows, type Database } from './database.js';

export type PasskeyDeviceType = 'singleDevice' | 'multiDevice';

export interface PasskeyCredential {
  /** our row id (what the account page names in a rename or remove form) */
  id: string;
  accountId: string;
  /** base64url, as WebAuthn's `id` */
  credentialId: string;
  /** the COSE public key */
  publicKey: Uint8Array<ArrayBuffer>;
  counter: number;
  transports: string[];
  deviceType: PasskeyDeviceType;
  backedUp: boolean;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export type NewPasskey = Omit<PasskeyCredential, 'id' | 'createdAt' | 'lastUsedAt'>;

/** How an assertion's counter was recorded: `accepted`, or refused because it did not go up (a clone). */
export type CounterOutcome = 'accepted' | 'not_increased' | 'missing';

interface Row {
  id: string;
  account_id: string;
  credential_id: string;
  public_key: Uint8Array;
  counter: number | string;
  transports: string[] | string;
  device_type: PasskeyDeviceType;
  backed_up: boolean;
  name: string;
  created_at: Date | string;
  last_used_at: Date | string | null;
}

const columns = 'id, account_id, credential_id, public_key, counter, transports, device_type, backed_up, name, created_at, last_used_at';

function fromRow(row: Row): PasskeyCredential {
  return {
    id: row.id,
    accountId: row.account_id,
    credentialId: row.credential_id,
    // pg answers a Buffer, PGlite a Uint8Array: one shape for the verifier
    publicKey: new Uint8Array(row.public_key),
    // bigint comes back as a string from pg; a WebAuthn counter is a uint32, safe as a number
    counter: Number(row.counter),
    transports: typeof row.transports === 'string' ? (JSON.parse(row.transports) as string[]) : row.transports,
    deviceType: row.device_type,
    backedUp: row.backed_up,
    name: row.name,
    createdAt: new Date(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : new Date(row.last_used_at),
  };
}

/**
 * The passkeys (WebAuthn credentials) of accounts. An assertion's counter is recorded with a
 * conditional update, so of two requests with the same counter (on any instances) at most one is
 * accepted, and a counter that goes back is refused however the requests interleave.
 */
export class PasskeyStore {
  constructor(private readonly db: Database) {}

  async listByAccount(accountId: string): Promise<PasskeyCredential[]> {
    const rows = await queryRows<Row>(this.db, `select ${columns} from passkey_credentials where account_id = ? order by created_at, id`, [accountId]);
    return rows.map(fromRow);
  }

  /** The passkeys of several accounts at once (a page of the admin's list). */
  async listByAccounts(accountIds: string[]): Promise<PasskeyCredential[]> {
    if (accountIds.length === 0) return [];
    const rows: Row[] = await this.db('passkey_credentials').whereIn('account_id', accountIds).orderBy(['created_at', 'id']).select(columns.split(', '));
    return rows.map(fromRow);
  }

  async countByAccount(accountId: string): Promise<number> {
    const [row] = await queryRows<{ n: number | string }>(this.db, 'select count(*) as n from passkey_credentials where account_id = ?', [accountId]);
    return Number(row?.n ?? 0);
  }

  /** Any account's credential with this WebAuthn id (the caller checks it is the right account's). */
  async findByCredentialId(credentialId: string): Promise<PasskeyCredential | undefined> {
    const [row] = await queryRows<Row>(this.db, `select ${columns} from passkey_credentials where credential_id = ? limit 1`, [credentialId]);
    return row && fromRow(row);
  }

  /** Stores a verified registration; undefined when that credential id is already registered (to any account). */
  async add(passkey: NewPasskey): Promise<PasskeyCredential | undefined> {
    const rows = await queryRows<Row>(
      this.db,
      `insert into passkey_credentials (account_id, credential_id, public_key, counter, transports, device_type, backed_up, name)
       values (?, ?, ?, ?, ?::jsonb, ?, ?, ?)
       on conflict (credential_id) do nothing
       returning ${columns}`,
      [passkey.accountId, passkey.credentialId, Buffer.from(passkey.publicKey), passkey.counter, JSON.stringify(passkey.transports), passkey.deviceType, passkey.backedUp, passkey.name],
    );
    return rows[0] && fromRow(rows[0]);
  }

  /** False when the account has no passkey with this row id. */
  async rename(accountId: string, id: string, name: string): Promise<boolean> {
    const rows = await this.db('passkey_credentials').where({ account_id: accountId, id }).update({ name }).returning('id');
    return rows.length === 1;
  }

  /** Removes one of the account's passkeys; false when it has none with this row id. */
  async remove(accountId: string, id: string): Promise<boolean> {
    const rows = await this.db('passkey_credentials').where({ account_id: accountId, id }).delete().returning('id');
    return rows.length === 1;
  }

  /**
   * Removes one passkey unless it is the account's last second factor (no other passkey, no TOTP
   * credential): `last` then, changing nothing. The account's passkey rows are locked first, so two
   * removals racing for the last two cannot both pass (the second sees one row left).
   */
  async removeUnlessLast(accountId: string, id: string): Promise<'removed' | 'missing' | 'last'> {
    return this.db.transaction(async (trx) => {
      const rows = await queryRows<{ id: string }>(trx, 'select id from passkey_credentials where account_id = ? for update', [accountId]);
      if (!rows.some((r) => r.id === id)) return 'missing';
      const [totp] = await queryRows(trx, 'select 1 from totp_credentials where account_id = ?', [accountId]);
      if (rows.length <= 1 && !totp) return 'last';
      await trx('passkey_credentials').where({ account_id: accountId, id }).delete();
      return 'removed';
    });
  }

  /** Removes every passkey of the account (disable, reset, recovery); how many there were. */
  async removeAll(accountId: string): Promise<number> {
    const rows = await this.db('passkey_credentials').where({ account_id: accountId }).delete().returning('id');
    return rows.length;
  }

  /**
   * Records a verified assertion: the new counter, the backup flag as the authenticator reports it
   * now, and the time — only when the counter goes up, or when both it and the stored one are 0
   * (an authenticator that keeps no counter, as synced passkeys do). `not_increased` means the
   * credential was used with this counter or a later one already: a cloned authenticator or a race.
   */
  async recordUse(accountId: string, credentialId: string, newCounter: number, backedUp: boolean): Promise<CounterOutcome> {
    const rule = newCounter === 0 ? 'counter = 0' : 'counter < ?';
    const updated = await queryRows(
      this.db,
      `update passkey_credentials set counter = ?, backed_up = ?, last_used_at = now()
       where account_id = ? and credential_id = ? and ${rule} returning id`,
      [newCounter, backedUp, accountId, credentialId, ...(newCounter === 0 ? [] : [newCounter])],
    );
    if (updated.length === 1) return 'accepted';
    const [exists] = await queryRows(this.db, 'select 1 from passkey_credentials where account_id = ? and credential_id = ?', [accountId, credentialId]);
    return exists ? 'not_increased' : 'missing';
  }
}
