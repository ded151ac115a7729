import { generateKeyPair, randomBytes, type JsonWebKey } from 'node:crypto';
import { promisify } from 'node:util';
import type { Database } from './database.js';
import type { SecretBox } from '../crypto/secret-box.js';

const generate = promisify(generateKeyPair);

/** How long a replaced key stays in the JWKS: longer than any token it can have signed lives. */
export const RETIRED_KEY_RETENTION_HOURS = 24;

interface Row {
  kid: string;
  alg: string;
  private_jwk_sealed: string;
  created_at: Date;
  retire_after: Date | null;
}

async function newRsaKey(): Promise<{ kid: string; jwk: JsonWebKey }> {
  const { privateKey } = await generate('rsa', { modulusLength: 2048 });
  const kid = randomBytes(12).toString('base64url');
  return { kid, jwk: { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } };
}

/**
 * Signing keys live in the database, sealed, so every instance signs with the same keys.
 * The active key (retire_after null) comes first in the list, and oidc-provider signs with the
 * first key of an algorithm; replaced keys stay listed (for verification) until retire_after.
 */
export class SigningKeyStore {
  constructor(
    private readonly db: Database,
    private readonly box: SecretBox,
  ) {}

  private context(kid: string) {
    return `signing-key:${kid}`;
  }

  /** Creates the first key unless one exists; the table lock makes two starting instances agree. */
  async ensureActiveKey(): Promise<void> {
    if (await this.db('signing_keys').whereNull('retire_after').first()) return;
    const { kid, jwk } = await newRsaKey();
    await this.db.transaction(async (trx) => {
      await trx.raw('lock table signing_keys in share row exclusive mode');
      if (await trx('signing_keys').whereNull('retire_after').first()) return;
      await trx('signing_keys').insert({ kid, alg: 'RS256', private_jwk_sealed: this.box.seal(JSON.stringify(jwk), this.context(kid)) });
    });
  }

  /** Adds a new active key; the previous ones stay in the JWKS for RETIRED_KEY_RETENTION_HOURS. */
  async rotate(now = new Date()): Promise<{ kid: string; retired: string[] }> {
    const { kid, jwk } = await newRsaKey();
    const retireAfter = new Date(now.getTime() + RETIRED_KEY_RETENTION_HOURS * 3600_000);
    return this.db.transaction(async (trx) => {
      await trx.raw('lock table signing_keys in share row exclusive mode');
      const retired = await trx('signing_keys').whereNull('retire_after').update({ retire_after: retireAfter }).returning('kid');
      await trx('signing_keys').insert({ kid, alg: 'RS256', private_jwk_sealed: this.box.seal(JSON.stringify(jwk), this.context(kid)), created_at: now });
      return { kid, retired: retired.map((r: { kid: string }) => r.kid) };
    });
  }

  /** The private JWKs to configure the provider with: active first, then still-valid retired ones. */
  async load(now = new Date()): Promise<JsonWebKey[]> {
    const rows = await this.db<Row>('signing_keys')
      .where((q) => q.whereNull('retire_after').orWhere('retire_after', '>', now))
      .orderByRaw('retire_after is not null, created_at desc');
    return rows.map((r) => JSON.parse(this.box.open(r.private_jwk_sealed, this.context(r.kid)).toString('utf8')) as JsonWebKey);
  }

  async reencrypt(): Promise<number> {
    let changed = 0;
    for (const row of await this.db<Row>('signing_keys')) {
      if (!this.box.isStale(row.private_jwk_sealed)) continue;
      const clear = this.box.open(row.private_jwk_sealed, this.context(row.kid));
      await this.db('signing_keys').where({ kid: row.kid }).update({ private_jwk_sealed: this.box.seal(clear, this.context(row.kid)) });
      changed += 1;
    }
    return changed;
  }
}
