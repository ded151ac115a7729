import { authenticationLevel, type Amr } from '../../policy/authentication-level.js';
import type { Account } from '../../stores/accounts.js';
import type { Tenant } from '../../stores/tenants.js';
import type { FlowDependencies } from '../dependencies.js';

/**
 * The end of every login: the acr/amr it earned, the lockout counter cleared, an audit event, and —
 * when a code was entered now — how long this browser is to be remembered (rule 11; 0 = not).
 */
export async function completeLogin(
  deps: Pick<FlowDependencies, 'lockout' | 'audit'>,
  input: { account: Account; tenant: Tenant; amr: Amr[]; remembered: boolean; clientId: string; ip: string },
): Promise<{ acr: string; amr: Amr[]; rememberHours: number }> {
  const level = authenticationLevel({
    password: input.amr.includes('pwd'),
    totp: input.amr.includes('otp'),
    recoveryCode: input.amr.includes('rec'),
    remembered: input.remembered,
  });
  await Promise.all([
    deps.lockout.clear(input.account.id),
    deps.audit.record({
      type: 'login.succeeded',
      tenantId: input.account.tenantId,
      accountId: input.account.id,
      actor: `account:${input.account.id}`,
      ip: input.ip,
      details: { client_id: input.clientId, amr: level.amr, acr: level.acr, remembered: input.remembered },
    }),
  ]);
  const rememberHours = input.amr.includes('otp') ? input.tenant.policy.remember_two_factor_hours[input.account.pool] : 0;
  return { ...level, rememberHours };
}
