import type { ClientMetadata } from 'oidc-provider';

/**
 * Sleutel's own account pages sign people in through the same login as every relying party, as
 * this built-in public client. Which cooperative and pool the login is for comes from the
 * relying party the person arrived from: the `sleutel_client` authorization parameter.
 */
export const ACCOUNT_CLIENT_ID = 'sleutel-account';
export const ACCOUNT_CLIENT_PARAM = 'sleutel_client';

export function accountClientMetadata(issuer: string): ClientMetadata {
  return {
    client_id: ACCOUNT_CLIENT_ID,
    token_endpoint_auth_method: 'none',
    redirect_uris: [`${issuer}/account/callback`],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  };
}
