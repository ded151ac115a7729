import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { KeyValueStore } from '../stores/kv/key-value-store.js';
import type { ClientStore, ClientRecord } from '../stores/clients.js';

/** Models whose entries belong to a grant and die with it (revokeByGrantId). */
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'Grant']);
/** Models oidc-provider consumes (single use); only their entries can have a consumed mark. */
const CONSUMABLE = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PushedAuthorizationRequest', 'PreAuthorizedCode']);
const FALLBACK_TTL = 14 * 24 * 3600;

// {id} is a Redis Cluster hash tag: an entry and its consumed mark live in one slot (read together).
export const keys = {
  model: (model: string, id: string) => `oidc:${model}:{${id}}`,
  consumed: (model: string, id: string) => `oidc:${model}:{${id}}:consumed`,
  grant: (grantId: string) => `oidc:grant:${grantId}`,
  sessionUid: (uid: string) => `oidc:Session:uid:${uid}`,
  /** session ids of an account, to end all its sessions (docs/rules.md, rules 4 and 10) */
  accountSessions: (accountId: string) => `oidc:account:${accountId}:sessions`,
  /** grant ids of an account, offline ones included (they outlive the session) */
  accountGrants: (accountId: string) => `oidc:account:${accountId}:grants`,
};

/**
 * oidc-provider's storage on the shared key-value store. Every write carries the model's TTL.
 * Indexes: grant id → its tokens, session uid → session id, account → sessions.
 */
export class KeyValueAdapter implements Adapter {
  constructor(
    private readonly model: string,
    private readonly kv: KeyValueStore,
  ) {}

  /** The entry and its index entries are written at once (one round trip, not one after another). */
  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    const ttl = expiresIn > 0 ? expiresIn : FALLBACK_TTL;
    const writes = [this.kv.set(keys.model(this.model, id), JSON.stringify(payload), ttl)];
    const grantId = this.model === 'Grant' ? id : payload.grantId;
    if (GRANTABLE.has(this.model) && grantId) writes.push(this.kv.addToSet(keys.grant(grantId), `${this.model}:${id}`, ttl));
    if (this.model === 'Grant' && payload.accountId) writes.push(this.kv.addToSet(keys.accountGrants(payload.accountId), id, ttl));
    if (this.model === 'Session') {
      if (payload.uid) writes.push(this.kv.set(keys.sessionUid(payload.uid), id, ttl));
      if (payload.accountId) writes.push(this.kv.addToSet(keys.accountSessions(payload.accountId), id, ttl));
    }
    await Promise.all(writes);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    if (!CONSUMABLE.has(this.model)) {
      const payload = await this.kv.get(keys.model(this.model, id));
      return payload ? (JSON.parse(payload) as AdapterPayload) : undefined;
    }
    const [payload, consumed] = await this.kv.getMany([keys.model(this.model, id), keys.consumed(this.model, id)]);
    if (!payload) return undefined;
    const parsed = JSON.parse(payload) as AdapterPayload;
    return consumed ? { ...parsed, consumed: Number(consumed) } : parsed;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const id = await this.kv.get(keys.sessionUid(uid));
    return id ? this.find(id) : undefined;
  }

  async findByUserCode(): Promise<AdapterPayload | undefined> {
    return undefined; // the device flow is not enabled
  }

  /**
   * Marks a code or refresh token as used, atomically: of requests racing with the same code,
   * exactly one wins; a loser revokes the whole grant (a reused code revokes what it issued).
   * A code that is gone by now was revoked by such a loser (or expired): also refused.
   */
  async consume(id: string): Promise<void> {
    const key = keys.model(this.model, id);
    const outcome = await this.kv.markOnce(key, keys.consumed(this.model, id), String(Math.floor(Date.now() / 1000)));
    if (outcome === 'marked') return;
    if (outcome === 'already') {
      // a reuse: revoke what the grant issued (the entry is gone if another loser revoked it first)
      const payload = await this.kv.get(key);
      const grantId = payload ? (JSON.parse(payload) as AdapterPayload).grantId : undefined;
      if (grantId) await revokeGrant(this.kv, grantId);
    }
    throw new errors.InvalidGrant('grant request is invalid');
  }

  async destroy(id: string): Promise<void> {
    const key = keys.model(this.model, id);
    if (this.model === 'Session') {
      const payload = await this.find(id);
      if (payload?.uid) await this.kv.delete(keys.sessionUid(payload.uid));
      if (payload?.accountId) await this.kv.removeFromSet(keys.accountSessions(payload.accountId), id);
    }
    await this.kv.delete(key, keys.consumed(this.model, id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await revokeGrant(this.kv, grantId);
  }
}

/**
 * Deletes every token issued under a grant, whatever its model. Consumed marks stay until their
 * TTL: a request racing with the revocation must still find its code used, not free.
 */
export async function revokeGrant(kv: KeyValueStore, grantId: string): Promise<void> {
  const members = await kv.members(keys.grant(grantId));
  const doomed = members.map((m) => {
    const [model, id] = m.split(/:(.*)/s) as [string, string];
    return keys.model(model, id);
  });
  await kv.delete(...doomed, keys.grant(grantId));
}

/** Clients come from the database: each is bound to a tenant and a pool (or is a service client). */
export class ClientAdapter implements Adapter {
  constructor(private readonly clients: ClientStore) {}

  async find(id: string): Promise<AdapterPayload | undefined> {
    if (id.length > 128) return undefined;
    const record = await this.clients.find(id);
    return record && toClientMetadata(record);
  }

  async upsert(): Promise<void> {
    throw new Error('clients are managed with `sleutel client add`');
  }
  async findByUid() {
    return undefined;
  }
  async findByUserCode() {
    return undefined;
  }
  async consume() {}
  async destroy() {}
  async revokeByGrantId() {}
}

export function toClientMetadata(c: ClientRecord): AdapterPayload {
  const service = c.pool === null;
  return {
    client_id: c.clientId,
    ...(c.secret === undefined ? { token_endpoint_auth_method: 'none' } : { client_secret: c.secret, token_endpoint_auth_method: 'client_secret_basic' }),
    grant_types: service ? ['client_credentials'] : ['authorization_code', 'refresh_token'],
    response_types: service ? [] : ['code'],
    redirect_uris: c.redirectUris,
    post_logout_redirect_uris: c.postLogoutRedirectUris,
    ...(c.backchannelLogoutUri ? { backchannel_logout_uri: c.backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
    tenant_id: c.tenantId,
    pool: c.pool,
  };
}
