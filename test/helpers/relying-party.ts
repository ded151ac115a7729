import * as oidc from 'openid-client';
import type { SeededClient } from './seed.js';
import type { Browser, Page } from './browser.js';

/** A relying party written with openid-client, as Econobis or the portal would be. */
export class RelyingParty {
  private constructor(
    readonly config: oidc.Configuration,
    readonly client: SeededClient,
  ) {}

  static async discover(issuer: string, client: SeededClient): Promise<RelyingParty> {
    const auth = client.secret ? oidc.ClientSecretBasic(client.secret) : oidc.None();
    const config = await oidc.discovery(new URL(issuer), client.clientId, client.secret ? undefined : {}, auth, { execute: [oidc.allowInsecureRequests] });
    return new RelyingParty(config, client);
  }

  isCallback = (location: string) => location.startsWith(this.client.redirectUri);

  /** Starts an authorization request with PKCE; returns the URL and what the callback must match. */
  async authorization(params: Record<string, string> = {}) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(this.config, {
      redirect_uri: this.client.redirectUri,
      scope: 'openid email profile tenant',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...params,
    });
    return { url: url.href, verifier, state, nonce };
  }

  async exchange(callbackUrl: string, request: { verifier: string; state: string; nonce: string }) {
    return oidc.authorizationCodeGrant(this.config, new URL(callbackUrl), {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
  }

  /** The whole login in one call: authorize → login form → callback → code exchange. */
  async login(browser: Browser, credentials: { email: string; password: string }, params: Record<string, string> = {}) {
    const request = await this.authorization(params);
    const loginPage = await browser.follow(request.url, this.isCallback);
    const callback = await browser.submit(loginPage, { email: credentials.email, password: credentials.password }, this.isCallback);
    if (!this.isCallback(callback.url)) throw new Error(`login did not reach the callback: ${callback.status} ${callback.body.slice(0, 500)}`);
    return { tokens: await this.exchange(callback.url, request), callback, loginPage };
  }

  /** Follows a page to the RP's callback (for flows where the login is already done). */
  async callbackFrom(browser: Browser, page: Page) {
    return browser.follow(page.url, this.isCallback);
  }
}
