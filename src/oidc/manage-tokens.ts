import type Provider from 'oidc-provider';

/**
 * Access to the management API: tokens for the resource `{issuer}/manage/v1` with scope `manage`.
 * They are opaque (stored), so revoking a grant — an admin ending someone's sessions — takes the
 * API access away at once.
 */
export const MANAGE_SCOPE = 'manage';
export const manageResource = (issuer: string) => `${issuer}/manage/v1`;

export interface ManageToken {
  clientId: string;
  /** set for a user's token; absent for a service client's client_credentials token */
  accountId?: string;
  /** the authentication level of the login that issued a user's token */
  acr?: string;
}

/** Looks a bearer token up; undefined unless it is live, for the management API, with scope manage. */
export async function findManageToken(provider: Provider, issuer: string, value: string): Promise<ManageToken | undefined> {
  if (!/^[A-Za-z0-9_-]{20,200}$/.test(value)) return undefined;
  const token = (await provider.AccessToken.find(value)) ?? (await provider.ClientCredentials.find(value));
  if (!token || token.isExpired) return undefined;
  const audience = [token.aud ?? []].flat();
  if (!token.scopes.has(MANAGE_SCOPE) || !audience.includes(manageResource(issuer))) return undefined;
  const extra = (token as { extra?: { acr?: string } }).extra;
  return { clientId: token.clientId!, accountId: (token as { accountId?: string }).accountId, acr: extra?.acr };
}
