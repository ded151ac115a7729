import { MAX_PASSKEYS_PER_ACCOUNT } from '../../factors/passkey/index.js';
import type { FlowDependencies } from '../dependencies.js';
import type { AccountVisitor } from './account-page.js';

/** A passkey as the account page lists it (never its key). */
export interface PasskeyView {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export interface PasskeySection {
  /** browsers run WebAuthn for our ISSUER (not on an IP address or plain http off localhost) */
  available: boolean;
  passkeys: PasskeyView[];
  /** after "Ontgrendel": the options for startRegistration(), as JSON for the page's data attribute */
  registrationOptions?: string;
}

/**
 * The account page's passkeys (issue 21): the list, and — unlocked, where browsers can, below the
 * limit — fresh registration options; making them keeps their challenge for this session, replacing
 * the one of an earlier view of the page.
 */
export async function passkeySection(deps: Pick<FlowDependencies, 'passkey' | 'passkeys'>, me: AccountVisitor): Promise<PasskeySection> {
  const stored = await deps.passkeys.listByAccount(me.account.id);
  const passkeys = stored.map(({ id, name, createdAt, lastUsedAt }) => ({ id, name, createdAt, lastUsedAt }));
  const available = deps.passkey.available;
  if (!available || !me.unlocked || stored.length >= MAX_PASSKEYS_PER_ACCOUNT) return { available, passkeys };
  const options = await deps.passkey.enrollmentOptions(
    { accountId: me.account.id, flowId: me.sessionUid },
    { name: me.account.email, displayName: me.account.name || me.account.email },
  );
  return { available, passkeys, registrationOptions: JSON.stringify(options) };
}
