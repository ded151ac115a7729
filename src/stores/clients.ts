import { LRUCache } from 'lru-cache';
import type { Database } from './database.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { Pool } from '../policy/tenant-policy.js';

/** A relying party bound to one tenant and pool, or a service client (pool null) for the management API. */
export interface ClientRecord {
  clientId: string;
  tenantId: string;
  pool: Pool | null;
  /** undefined for a public client (PKCE only, no secret) */
  secret?: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  backchannelLogoutUri?: string;
}

interface Row {
  client_id: string;
  tenant_id: string;
  pool: Pool | null;
  secret_sealed: string | null;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  backchannel_logout_uri: string | null;
}

/**
 * How long a client found in the database is kept in this process. oidc-provider looks the client
 * up on every request to /token, /auth and the interactions (sometimes twice), and each lookup was
 * a query plus an AES-GCM decryption of its secret, synchronous on the event loop. A client that
 * is removed or changed in the database — by another instance, or by hand — is therefore still
 * served here for at most this long. Clients change rarely and only by operators; a few seconds
 * is the price, and nothing else (accounts, sessions, tokens) is cached with it.
 */
export const CLIENT_CACHE_SECONDS = 5;
/** Plenty for every client of every tenant; past it the least recently used make room. */
const CLIENT_CACHE_ENTRIES = 1000;

/** Client secrets are needed in clear text by oidc-provider (it compares them), so they are sealed, not hashed. */
export class ClientStore {
  // concurrent lookups of one id share one query; unknown ids are not kept (random ids cannot fill
  // the cache, and a client added a moment ago is found at once)
  private readonly cache = new LRUCache<string, ClientRecord>({
    max: CLIENT_CACHE_ENTRIES,
    ttl: CLIENT_CACHE_SECONDS * 1000,
    ignoreFetchAbort: true,
    fetchMethod: (clientId) => this.load(clientId),
  });

  constructor(
    private readonly db: Database,
    private readonly box: SecretBox,
  ) {}

  private context(clientId: string) {
    return `client-secret:${clientId}`;
  }

  async create(input: ClientRecord): Promise<void> {
    this.cache.delete(input.clientId);
    await this.db('clients').insert({
      client_id: input.clientId,
      tenant_id: input.tenantId,
      pool: input.pool,
      secret_sealed: input.secret === undefined ? null : this.box.seal(input.secret, this.context(input.clientId)),
      redirect_uris: JSON.stringify(input.redirectUris),
      post_logout_redirect_uris: JSON.stringify(input.postLogoutRedirectUris),
      backchannel_logout_uri: input.backchannelLogoutUri ?? null,
    });
  }

  /** Replaces a client's redirect URIs (a built-in client after the issuer moved). */
  async setRedirectUris(clientId: string, redirectUris: string[]): Promise<void> {
    await this.db('clients').where({ client_id: clientId }).update({ redirect_uris: JSON.stringify(redirectUris) });
    this.cache.delete(clientId);
  }

  /** A client by id; served from this process's memory for up to CLIENT_CACHE_SECONDS. */
  find(clientId: string): Promise<ClientRecord | undefined> {
    return this.cache.fetch(clientId);
  }

  private async load(clientId: string): Promise<ClientRecord | undefined> {
    const row = await this.db<Row>('clients').where({ client_id: clientId }).first();
    if (!row) return undefined;
    return {
      clientId: row.client_id,
      tenantId: row.tenant_id,
      pool: row.pool,
      secret: row.secret_sealed ? this.box.open(row.secret_sealed, this.context(row.client_id)).toString('utf8') : undefined,
      redirectUris: row.redirect_uris,
      postLogoutRedirectUris: row.post_logout_redirect_uris,
      backchannelLogoutUri: row.backchannel_logout_uri ?? undefined,
    };
  }

  /** Re-seals every secret under the first ENCRYPTION_KEYS key; returns how many changed. */
  async reencrypt(): Promise<number> {
    let changed = 0;
    const rows = await this.db<Row>('clients').whereNotNull('secret_sealed');
    for (const row of rows) {
      if (!row.secret_sealed || !this.box.isStale(row.secret_sealed)) continue;
      const clear = this.box.open(row.secret_sealed, this.context(row.client_id));
      await this.db('clients').where({ client_id: row.client_id }).update({ secret_sealed: this.box.seal(clear, this.context(row.client_id)) });
      this.cache.delete(row.client_id);
      changed += 1;
    }
    return changed;
  }
}
