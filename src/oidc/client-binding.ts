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
