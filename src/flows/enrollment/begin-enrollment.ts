import { newTotpSecret, provisioning, type Provisioning } from '../../factors/totp.js';
import { totpIssuerLabel } from '../../policy/tenant-policy.js';
import type { Account } from '../../stores/accounts.js';
import type { Tenant } from '../../stores/tenants.js';
import type { FlowDependencies } from '../dependencies.js';

/**
 * Enrollment step 1 (docs/rules.md, rule 6), shared by the login and the account page: a new
 * secret, kept only sealed in the enrollment's own state until a code confirms it.
 */
const context = (accountId: string) => `pending-totp:${accountId}`;

export function beginEnrollment(deps: Pick<FlowDependencies, 'box'>, account: Account): string {
  return deps.box.seal(newTotpSecret(), context(account.id));
}

export function pendingSecret(deps: Pick<FlowDependencies, 'box'>, account: Account, sealed: string): string {
  return deps.box.open(sealed, context(account.id)).toString('utf8');
}

/** What the screen shows for a pending enrollment: QR code and key, labelled for the tenant and pool. */
export function enrollmentScreen(deps: Pick<FlowDependencies, 'box'>, account: Account, tenant: Tenant, sealed: string): Promise<Provisioning> {
  return provisioning(pendingSecret(deps, account, sealed), totpIssuerLabel(tenant.policy, account.pool, tenant.name), account.email);
}
