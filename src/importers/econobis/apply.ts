import { PERIOD_SECONDS } from '../../factors/totp.js';
import { hashRecoveryCode } from '../../factors/recovery-code.js';
import type { AccountStore } from '../../stores/accounts.js';
import type { AuditLog } from '../../stores/audit-events.js';
import type { ImportMarkStore } from '../../stores/import-marks.js';
import type { SecondFactorStore } from '../../stores/second-factors.js';
import type { Tenant, TenantStore } from '../../stores/tenants.js';
import { COOPERATION, type AccountPlan, type PolicyPlan } from './plan.js';
import type { ImportedTwoFactor } from './rows.js';

export interface ApplyStores {
  accounts: AccountStore;
  secondFactors: SecondFactorStore;
  tenants: TenantStore;
  marks: ImportMarkStore;
  audit: AuditLog;
}

/**
 * Econobis (Fortify) keeps no record in its database of the last time step it accepted, so there is
 * none to carry over. Starting two steps back lets every code of the ±1 window count at the first
 * login; the cost, a code used in Econobis within the last minute being usable once more here, is
 * closed by switching Econobis's own login off before the final import (docs/integration.md).
 */
const startingTimeStep = () => Math.floor(Date.now() / 1000 / PERIOD_SECONDS) - 2;

/** Writes a plan; the caller runs it inside one transaction, so a failure leaves nothing half-imported. */
export async function applyPlan(stores: ApplyStores, tenant: Tenant, plans: AccountPlan[], policy: PolicyPlan | undefined, actor: string): Promise<void> {
  for (const plan of plans) await applyAccount(stores, tenant, plan, actor);
  if (!policy) return;
  if (policy.to !== policy.from) {
    const after = { ...tenant.policy, require_two_factor_for_all_staff: policy.to };
    await stores.tenants.updatePolicy(tenant.id, after);
    await stores.audit.record({ type: 'tenant.policy_changed', tenantId: tenant.id, actor, details: { source: 'econobis', before: tenant.policy, after } });
  }
  await stores.marks.put(tenant.id, COOPERATION, 'policy', policy.mark);
}

async function applyAccount(stores: ApplyStores, tenant: Tenant, plan: AccountPlan, actor: string): Promise<void> {
  const c = plan.candidate;
  let accountId = plan.accountId;
  if (!accountId) {
    const account = await stores.accounts.create({
      tenantId: tenant.id,
      pool: c.pool,
      email: c.email,
      name: c.name,
      roles: c.roles,
      passwordHash: c.passwordHash,
      // Econobis set up every account through a link sent to this address
      emailVerified: true,
      disabled: c.disabled,
      twoFactorRequired: c.twoFactorRequired,
    });
    accountId = account.id;
  }
  if (plan.writes.profile) await stores.accounts.update(accountId, plan.writes.profile);
  if (plan.writes.password) await stores.accounts.setPasswordHash(accountId, plan.writes.password);
  if (plan.writes.twoFactor === 'remove') await stores.secondFactors.remove(accountId);
  else if (plan.writes.twoFactor) await stores.secondFactors.putImported(accountId, importedTotp(plan.writes.twoFactor));
  for (const [part, fingerprint] of Object.entries(plan.marks)) {
    await stores.marks.put(tenant.id, accountId, part as keyof typeof plan.marks, fingerprint);
  }
  if (plan.changes.length) {
    await stores.audit.record({
      type: 'account.imported',
      tenantId: tenant.id,
      accountId,
      actor,
      details: { source: 'econobis', econobis_id: c.econobisId, pool: c.pool, changes: plan.changes },
    });
  }
}

function importedTotp(twoFactor: ImportedTwoFactor) {
  return {
    secret: twoFactor.secret,
    confirmedAt: twoFactor.confirmedAt,
    lastTimeStep: startingTimeStep(),
    recoveryCodeHash: twoFactor.recoveryCode === null ? null : hashRecoveryCode(twoFactor.recoveryCode),
  };
}
