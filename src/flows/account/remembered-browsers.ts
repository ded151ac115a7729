import { isRandomToken } from '../../crypto/random-token.js';
import type { Account } from '../../stores/accounts.js';
import { RemembranceStore, type RememberedBrowser } from '../../stores/remembrances.js';
import type { Tenant } from '../../stores/tenants.js';
import type { FlowDependencies } from '../dependencies.js';

/** A remembered browser as the account page lists it; `current`: the browser looking at the page. */
export interface RememberedBrowserView extends RememberedBrowser {
  current: boolean;
}

type Deps = Pick<FlowDependencies, 'remembrances' | 'audit'>;

/**
 * The browsers that skip the code for the account now (docs/rules.md, rule 11): under the
 * tenant's current hours for the pool, so a lowered setting shortens the list at once.
 */
export async function rememberedBrowsers(deps: Deps, input: { account: Account; tenant: Tenant; browserToken?: string }): Promise<RememberedBrowserView[]> {
  const hours = input.tenant.policy.remember_two_factor_hours[input.account.pool];
  const browsers = await deps.remembrances.list(input.account.id, hours);
  const current = isRandomToken(input.browserToken) ? RemembranceStore.entryId(input.browserToken) : undefined;
  return browsers.map((browser) => ({ ...browser, current: browser.id === current }));
}

/** "Vergeet deze browser": false when the account has no such entry (another account's, expired). */
export async function forgetRememberedBrowser(deps: Deps, input: { account: Account; entryId: string; ip: string }): Promise<boolean> {
  const forgotten = await deps.remembrances.forgetEntry(input.account.id, input.entryId);
  if (forgotten) await audit(deps, input.account, input.ip, { all: false });
  return forgotten;
}

/** "Vergeet alle": every browser asks the code at its next login. */
export async function forgetAllRememberedBrowsers(deps: Deps, input: { account: Account; ip: string }): Promise<void> {
  await deps.remembrances.forgetAll(input.account.id);
  await audit(deps, input.account, input.ip, { all: true });
}

const audit = (deps: Deps, account: Account, ip: string, details: { all: boolean }) =>
  deps.audit.record({ type: 'two_factor.browser_forgotten', tenantId: account.tenantId, accountId: account.id, actor: `account:${account.id}`, ip, details });
