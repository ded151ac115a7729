import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Logger } from '../log.js';
import type { KeyValueStore } from '../stores/kv/key-value-store.js';
import { keys } from './adapter.js';
import type { BackchannelClient, BackchannelLogouts } from './backchannel.js';

/**
 * The sessions of an account, through oidc-provider's Session model and our account index
 * (oidc-provider has no lookup by account). Ending one notifies every relying party of it with a
 * back-channel logout, revokes its grants (offline ones too) and destroys the session.
 */
export class AccountSessions {
  constructor(
    private readonly provider: Provider,
    private readonly kv: KeyValueStore,
    private readonly log: Logger,
    private readonly backchannel: BackchannelLogouts,
  ) {}

  /** The account signed in to Sleutel in this browser, if any. */
  async current(ctx: Context): Promise<{ accountId: string; sessionUid: string } | undefined> {
    const session = await this.provider.Session.get(ctx as never);
    return session.accountId ? { accountId: session.accountId, sessionUid: session.uid } : undefined;
  }

  /**
   * Ends every session of the account (but the one with `exceptUid`) and revokes every grant of
   * it, also offline grants whose session is already gone; returns how many sessions ended.
   */
  async endAll(accountId: string, options: { exceptUid?: string } = {}): Promise<number> {
    let ended = 0;
    const kept = new Set<string>();
    for (const id of await this.kv.members(keys.accountSessions(accountId))) {
      const session = await this.provider.Session.find(id);
      if (!session) {
        await this.kv.removeFromSet(keys.accountSessions(accountId), id);
        continue;
      }
      if (session.uid === options.exceptUid || session.accountId !== accountId) {
        for (const authorization of Object.values(session.authorizations ?? {})) {
          const grantId = (authorization as { grantId?: string }).grantId;
          if (grantId) kept.add(grantId);
        }
        continue;
      }
      for (const [clientId, authorization] of Object.entries(session.authorizations ?? {})) {
        const { sid, grantId } = authorization as { sid?: string; grantId?: string };
        const client = await this.provider.Client.find(clientId);
        // logged and counted there, retried in the background when the failure may pass
        if (client?.backchannelLogoutUri && sid) await this.backchannel.send(client as unknown as BackchannelClient, accountId, sid, this.log);
        if (grantId) await this.revokeGrant(grantId);
      }
      await session.destroy();
      ended += 1;
    }
    for (const grantId of await this.kv.members(keys.accountGrants(accountId))) {
      if (kept.has(grantId)) continue;
      await this.revokeGrant(grantId);
      await this.kv.removeFromSet(keys.accountGrants(accountId), grantId);
    }
    return ended;
  }

  private async revokeGrant(grantId: string): Promise<void> {
    const { AccessToken, RefreshToken, AuthorizationCode, Grant } = this.provider;
    await Promise.all([AccessToken, RefreshToken, AuthorizationCode].map((model) => model.adapter.revokeByGrantId(grantId)));
    await Grant.adapter.destroy(grantId);
  }
}
