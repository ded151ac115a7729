import { createHash, timingSafeEqual } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { ClientStore } from '../stores/clients.js';

/**
 * The admin console (/admin/{tenant}) signs staff in through Sleutel's own login as a first-party
 * public client of that tenant's staff pool: `sleutel-admin-{slug}`, registered in the clients table
 * at the first sign-in, like any relying party (so the login binding, the account checks and the
 * back-channel machinery need nothing special). The prefix is reserved: `sleutel client add` refuses it.
 */
export const ADMIN_CLIENT_PREFIX = 'sleutel-admin-';

export const adminClientId = (slug: string) => `${ADMIN_CLIENT_PREFIX}${slug}`;
export const adminRedirectUri = (issuer: string, slug: string) => `${issuer}/admin/${slug}/callback`;

/** Registers the console's client of a tenant when it is not there yet (two instances racing: one insert wins). */
export async function ensureAdminClient(clients: ClientStore, tenant: { id: string; slug: string }, issuer: string): Promise<string> {
  const clientId = adminClientId(tenant.slug);
  const redirectUri = adminRedirectUri(issuer, tenant.slug);
  const existing = await clients.find(clientId);
  if (existing) {
    if (existing.tenantId !== tenant.id || existing.pool !== 'staff') throw new Error(`client ${clientId} exists but is not the admin console's client of this tenant`);
    // ISSUER changed since it was registered: the console's callback moved with it
    if (existing.redirectUris.length !== 1 || existing.redirectUris[0] !== redirectUri) await clients.setRedirectUris(clientId, [redirectUri]);
    return clientId;
  }
  try {
    await clients.create({ clientId, tenantId: tenant.id, pool: 'staff', redirectUris: [redirectUri], postLogoutRedirectUris: [] });
  } catch (error) {
    if (!(await clients.find(clientId))) throw error;
  }
  return clientId;
}

/**
 * Redeems the console's authorization code in this process, with the checks of oidc-provider's
 * token endpoint (client, redirect URI, PKCE S256, expiry, single use, a living grant), and answers
 * who signed in and at which level. No tokens are issued: the console keeps its own session.
 */
export async function redeemAdminCode(
  provider: Provider,
  input: { clientId: string; code: string; verifier: string; redirectUri: string },
): Promise<{ accountId: string; acr: string | undefined } | undefined> {
  if (input.code.length > 512) return undefined;
  const code = await provider.AuthorizationCode.find(input.code, { ignoreExpiration: true });
  if (!code || code.clientId !== input.clientId || code.isExpired || (code as unknown as { consumed?: number }).consumed || code.redirectUri !== input.redirectUri) return undefined;
  const expected = Buffer.from(createHash('sha256').update(input.verifier).digest('base64url'));
  const challenge = Buffer.from(code.codeChallenge ?? '');
  if (code.codeChallengeMethod !== 'S256' || challenge.length !== expected.length || !timingSafeEqual(challenge, expected)) return undefined;
  const grant = code.grantId ? await provider.Grant.find(code.grantId) : undefined;
  if (!grant || grant.clientId !== input.clientId || !code.accountId) return undefined;
  try {
    await code.consume();
  } catch {
    return undefined; // used already (the adapter revokes the grant)
  }
  return { accountId: code.accountId, acr: code.acr };
}
