import { createHash, randomBytes } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { Locale } from '../locale.js';
import { ACCOUNT_CLIENT_ID, ACCOUNT_CLIENT_PARAM } from './account-client.js';
import { clientBinding } from './client-binding.js';

/**
 * The account page's sign-in: an authorization request of the built-in account client for the
 * cooperative and pool of the relying party the person came from (`?client_id=`).
 */
export class AccountSignIn {
  constructor(
    private readonly provider: Provider,
    private readonly issuer: string,
  ) {}

  /** Where to send the browser; undefined when `clientId` names no relying party bound to a pool. */
  async authorizationUrl(clientId: unknown, state: string, locale: Locale): Promise<string | undefined> {
    if (typeof clientId !== 'string' || clientId === '' || clientId.length > 128 || clientId === ACCOUNT_CLIENT_ID) return undefined;
    const client = await this.provider.Client.find(clientId);
    if (!client || !clientBinding(client)?.pool) return undefined;
    // PKCE is required of every client; the account client never redeems its code (the session is what it needs)
    const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
    const query = new URLSearchParams({
      client_id: ACCOUNT_CLIENT_ID,
      [ACCOUNT_CLIENT_PARAM]: clientId,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: `${this.issuer}/account/callback`,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state,
      ui_locales: locale,
    });
    return `/auth?${query}`;
  }
}
