import type Provider from 'oidc-provider';
import { ACCOUNT_CLIENT_ID, ACCOUNT_CLIENT_PARAM } from './account-client.js';

/** Client metadata oidc-provider keeps for us: which tenant and pool a relying party belongs to. */
export interface SleutelClientMetadata {
  tenant_id: string;
  /** null for a service client */
  pool: 'staff' | 'portal' | null;
}

export function clientBinding(client: { metadata(): object } | undefined): SleutelClientMetadata | undefined {
  const meta = client?.metadata() as Partial<SleutelClientMetadata> | undefined;
  return meta?.tenant_id ? { tenant_id: meta.tenant_id, pool: meta.pool ?? null } : undefined;
}

/**
 * The tenant and pool a login is for: the client's own, or — for Sleutel's account pages — those
 * of the relying party named in the `sleutel_client` parameter.
 */
export async function loginBinding(provider: Provider, clientId: string, params: Record<string, unknown>): Promise<SleutelClientMetadata | undefined> {
  const bindingClientId = clientId === ACCOUNT_CLIENT_ID ? params[ACCOUNT_CLIENT_PARAM] : clientId;
  if (typeof bindingClientId !== 'string' || bindingClientId.length > 128 || bindingClientId === ACCOUNT_CLIENT_ID) return undefined;
  const binding = clientBinding(await provider.Client.find(bindingClientId));
  return binding?.pool ? binding : undefined;
}
