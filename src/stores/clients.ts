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

/** Client secrets are needed in clear text by oidc-provider (it compares them), so they are sealed, not hashed. */
export class ClientStore {
  constructor(
    private readonly db: Database,
    private readonly box: SecretBox,
  ) {}

  private context(clientId: string) {
    return `client-secret:${clientId}`;
  }

  async create(input: ClientRecord): Promise<void> {
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

  async find(clientId: string): Promise<ClientRecord | undefined> {
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
      changed += 1;
    }
    return changed;
  }
}
