import type { FindAccount } from 'oidc-provider';
import type { Account } from '../stores/accounts.js';
import { clientBinding, type SleutelClientMetadata } from './client-binding.js';

/** What the provider needs to know of accounts; wiring backs it with the stores. */
export interface AccountDirectory {
  find(accountId: string): Promise<{ account: Account; tenantSlug: string } | undefined>;
  belongsTo(accountId: string, binding: SleutelClientMetadata): Promise<boolean>;
}

/**
 * Claims (docs/architecture.md § Contracts, OpenID Connect). A disabled account, or one outside
 * the client's tenant/pool, is not found, so its tokens stop yielding userinfo and refreshes fail.
 */
export function createFindAccount(directory: AccountDirectory): FindAccount {
  return async (ctx, sub) => {
    const found = await directory.find(sub);
    if (!found || found.account.disabled) return undefined;
    const { account, tenantSlug } = found;
    const binding = clientBinding(ctx.oidc.client);
    if (binding && (binding.tenant_id !== account.tenantId || (binding.pool !== null && binding.pool !== account.pool))) return undefined;
    return {
      accountId: account.id,
      claims: async () => ({
        sub: account.id,
        email: account.email,
        email_verified: account.emailVerified,
        name: account.name,
        tenant: tenantSlug,
        pool: account.pool,
        ...(account.pool === 'staff' ? { roles: account.roles } : {}),
      }),
    };
  };
}
