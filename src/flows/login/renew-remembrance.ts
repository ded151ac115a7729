import type { Amr } from '../../policy/authentication-level.js';
import type { Account } from '../../stores/accounts.js';
import { RemembranceStore, type BrowserDescription } from '../../stores/remembrances.js';
import type { Tenant } from '../../stores/tenants.js';
import type { FlowDependencies } from '../dependencies.js';
import { rememberHours } from './complete-login.js';

/**
 * The browser, as a login sees it: the remembrance token it sent for an account (one cookie per
 * account, src/http/browser-cookie.ts) and a way to hand it a new one. Implemented in src/http.
 */
export interface BrowserPort {
  tokenFor(accountId: string): string | undefined;
  /** send the browser `token` for the account, to keep for `seconds` */
  keep(accountId: string, token: string, seconds: number): void;
  /** the remembrance could not be written (the login goes on; the code is asked next time) */
  notKept(error: Error): void;
  /** what the account page's list calls this browser (from its User-Agent) */
  description?: BrowserDescription;
}

/**
 * This browser's remembrance after the login (docs/rules.md, rule 11), always under a fresh
 * token: written after a code, moved when the remembrance let the login skip the code (so a
 * planted or leaked token is never the one that counts afterwards). The moved remembrance keeps
 * its moment and what it had left to live.
 */
export async function renewRemembrance(
  deps: Pick<FlowDependencies, 'remembrances'>,
  browser: BrowserPort,
  input: { tenant: Tenant; account: Account; amr: Amr[]; remembered: boolean },
): Promise<void> {
  const { account } = input;
  const hours = rememberHours(input.tenant, account, input.amr);
  const previous = browser.tokenFor(account.id);
  const fresh = RemembranceStore.newBrowserToken();
  if (hours > 0) {
    await deps.remembrances.remember(account.id, fresh, hours, browser.description);
    browser.keep(account.id, fresh, hours * 3600);
    if (previous) await deps.remembrances.forget(account.id, previous);
  } else if (input.remembered && previous) {
    const left = await deps.remembrances.renew(account.id, previous, fresh);
    if (left > 0) browser.keep(account.id, fresh, left);
  }
}
