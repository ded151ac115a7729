import type { Locale } from '../../locale.js';
import { twoFactorRequirement, type RequiredBy } from '../../policy/second-factor.js';
import type { Account } from '../../stores/accounts.js';
import type { Tenant } from '../../stores/tenants.js';
import type { FlowDependencies } from '../dependencies.js';
import { notify } from '../notify.js';

export type RemovePasskeyOutcome =
  | { result: 'removed'; name: string; twoFactorOff: boolean }
  | { result: 'not_found' }
  /** it is the account's last second factor and 2FA is required for the account */
  | { result: 'last_factor'; requiredBy: RequiredBy };

/**
 * Removes one of the account's passkeys (issue 21). Refused when it is the last second factor and
 * 2FA is required (docs/rules.md, rule 9, as for turning 2FA off). When it was the last factor
 * and 2FA is not required, 2FA is off: the recovery code goes (it exists only beside another
 * factor) and every remembered browser is forgotten, as on disable. An audit event and a mail.
 */
export async function removePasskey(
  deps: Pick<FlowDependencies, 'passkeys' | 'secondFactors' | 'remembrances' | 'audit' | 'mailer' | 'tenants'>,
  input: { account: Account; tenant: Tenant; passkeyId: string; ip: string; locale: Locale },
): Promise<RemovePasskeyOutcome> {
  const { account } = input;
  const passkey = (await deps.passkeys.listByAccount(account.id)).find((p) => p.id === input.passkeyId);
  if (!passkey) return { result: 'not_found' };
  const requirement = twoFactorRequirement(account.pool, input.tenant.policy, account.twoFactorRequired);
  if (requirement.required) {
    const removed = await deps.passkeys.removeUnlessLast(account.id, passkey.id);
    if (removed === 'last') return { result: 'last_factor', requiredBy: requirement.requiredBy };
    if (removed === 'missing') return { result: 'not_found' };
  } else if (!(await deps.passkeys.remove(account.id, passkey.id))) return { result: 'not_found' };
  const twoFactorOff = !(await deps.secondFactors.isEnabled(account.id));
  if (twoFactorOff) {
    await deps.secondFactors.remove(account.id);
    await deps.remembrances.forgetAll(account.id);
  }
  const base = { tenantId: account.tenantId, accountId: account.id, actor: `account:${account.id}`, ip: input.ip };
  await deps.audit.record(
    { ...base, type: 'passkey.removed', details: { passkey_id: passkey.id, name: passkey.name } },
    ...(twoFactorOff ? [{ ...base, type: 'two_factor.disabled' as const, details: { factor: 'passkey' } }] : []),
  );
  await notify(deps, account, 'passkey_removed', input.locale, { passkey: passkey.name });
  return { result: 'removed', name: passkey.name, twoFactorOff };
}

