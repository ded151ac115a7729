import type { Provisioning } from '../../factors/totp.js';
import { totpIssuerLabel } from '../../policy/tenant-policy.js';
import type { Account } from '../../stores/accounts.js';
import type { Tenant } from '../../stores/tenants.js';
import type { FlowDependencies } from '../dependencies.js';

/**
 * Enrollment step 1 (docs/rules.md, rule 6), shared by the login and the account page: a new
 * credential of the factor, kept only sealed in the enrollment's own state until a proof confirms it.
 */
export function beginEnrollment(deps: Pick<FlowDependencies, 'totp'>, account: Account): string {
  return deps.totp.begin(account.id);
}

/** What the screen shows for a pending enrollment: QR code and key, labelled for the tenant and pool. */
export function enrollmentScreen(deps: Pick<FlowDependencies, 'totp'>, account: Account, tenant: Tenant, pending: string): Promise<Provisioning> {
  return deps.totp.screen(account.id, pending, { issuer: totpIssuerLabel(tenant.policy, account.pool, tenant.name), accountName: account.email });
}
