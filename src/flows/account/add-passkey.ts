import { hashRecoveryCode, newRecoveryCode } from '../../factors/recovery-code.js';
import type { RegistrationRefusal } from '../../factors/passkey/index.js';
import type { Locale } from '../../locale.js';
import type { Account } from '../../stores/accounts.js';
import type { FlowDependencies } from '../dependencies.js';
import { notify } from '../notify.js';

export type AddPasskeyOutcome =
  /** `recoveryCode`: the passkey is the account's first factor, so it gets a recovery code, shown once */
  | { ok: true; name: string; recoveryCode?: string }
  | { ok: false; reason: RegistrationRefusal };

/**
 * "Passkey toevoegen" (issue 21): the browser's answer to the registration options, verified and
 * stored by the factor in one call. A passkey that is the account's first factor turns 2FA on and
 * comes with a recovery code, as TOTP's enrollment does (docs/rules.md, rule 6); either way an audit
 * event and a mail to the account's address. A refusal stores nothing and is audited with its reason.
 */
export async function addPasskey(
  deps: Pick<FlowDependencies, 'passkey' | 'secondFactors' | 'audit' | 'mailer' | 'tenants'>,
  input: { account: Account; sessionUid: string; /** the browser's JSON as posted */ response: string; name: string; ip: string; locale: Locale },
): Promise<AddPasskeyOutcome> {
  const { account } = input;
  const actor = `account:${account.id}`;
  const base = { tenantId: account.tenantId, accountId: account.id, actor, ip: input.ip };
  const hadFactor = await deps.secondFactors.isEnabled(account.id);
  const result = await deps.passkey.enroll({ accountId: account.id, flowId: input.sessionUid }, input.response, input.name);
  if (!result.ok) {
    await deps.audit.record({ ...base, type: 'passkey.refused', details: { ceremony: 'register', reason: result.reason } });
    return result;
  }
  const passkey = result.enrolled;
  let recoveryCode: string | undefined;
  if (!hadFactor) {
    const code = newRecoveryCode();
    // none yet (an account with TOTP has one already): this one is shown once
    if (await deps.secondFactors.keepRecoveryCode(account.id, hashRecoveryCode(code))) recoveryCode = code;
  }
  await deps.audit.record(
    { ...base, type: 'passkey.added', details: { passkey_id: passkey.id, name: passkey.name, device_type: passkey.deviceType, backed_up: passkey.backedUp } },
    ...(hadFactor ? [] : [{ ...base, type: 'two_factor.enabled' as const, details: { factor: 'passkey' } }]),
  );
  await notify(deps, account, 'passkey_added', input.locale, { passkey: passkey.name });
  return { ok: true, name: passkey.name, recoveryCode };
}
