import { authenticationLevel, type Amr } from '../../policy/authentication-level.js';
import type { Locale } from '../../locale.js';
import type { Account } from '../../stores/accounts.js';
import type { AuditEvent } from '../../stores/audit-events.js';
import type { Tenant } from '../../stores/tenants.js';
import type { FlowDependencies } from '../dependencies.js';

/** The proofs after which a browser is remembered: a code or a passkey passed now (not a recovery code, which leads into enrollment). */
const REMEMBERED_AFTER: readonly Amr[] = ['otp', 'hwk', 'swk'];

/** How long this browser is to be remembered after this login (docs/rules.md, rule 11): only when a code or passkey was passed now; 0 = not. */
export function rememberHours(tenant: Tenant, account: Account, amr: Amr[]): number {
  return amr.some((value) => REMEMBERED_AFTER.includes(value)) ? tenant.policy.remember_two_factor_hours[account.pool] : 0;
}

/**
 * The end of every login: the acr/amr it earned, the lockout counter cleared, an audit event
 * (written with `alsoRecord`, the second factor's success just before, in one insert), and the
 * screen's language kept for the mails the holder gets later without a screen (an admin's action).
 */
export async function completeLogin(
  deps: Pick<FlowDependencies, 'lockout' | 'audit' | 'accounts' | 'factors'>,
  input: { account: Account; amr: Amr[]; remembered: boolean; clientId: string; ip: string; locale?: Locale; alsoRecord?: AuditEvent[] },
): Promise<{ acr: string; amr: Amr[] }> {
  const level = authenticationLevel({
    password: input.amr.includes('pwd'),
    secondFactors: deps.factors.passedIn(input.amr),
    remembered: input.remembered,
  });
  await Promise.all([
    deps.lockout.clear(input.account.id),
    input.locale && input.locale !== input.account.locale && deps.accounts.update(input.account.id, { locale: input.locale }),
    deps.audit.record(...(input.alsoRecord ?? []), {
      type: 'login.succeeded',
      tenantId: input.account.tenantId,
      accountId: input.account.id,
      actor: `account:${input.account.id}`,
      ip: input.ip,
      details: { client_id: input.clientId, amr: level.amr, acr: level.acr, remembered: input.remembered },
    }),
  ]);
  return level;
}
