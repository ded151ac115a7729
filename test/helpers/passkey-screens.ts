import type { Browser, Page } from './browser.js';
import { freePort } from './ports.js';
import { RelyingParty } from './relying-party.js';
import { seedTenant, type Seeded } from './seed.js';
import { startServer, type TestServer } from './server.js';
import type { StoreMode } from './stores.js';

/**
 * Passkeys need an ISSUER browsers run WebAuthn for: a host name, not 127.0.0.1
 * (src/factors/passkey/relying-party.ts). The server still listens on loopback; the issuer and
 * every request use http://localhost:PORT.
 */
export async function startPasskeyServer(mode: StoreMode): Promise<{ server: TestServer; base: string; seeded: Seeded; staffRp: RelyingParty; portalRp: RelyingParty }> {
  const port = await freePort();
  const base = `http://localhost:${port}`;
  const server = await startServer(mode, { port, env: { ISSUER: base } });
  const seeded = await seedTenant(server.sleutel.stores);
  return { server, base, seeded, staffRp: await RelyingParty.discover(base, seeded.staffClient), portalRp: await RelyingParty.discover(base, seeded.portalClient) };
}

/** The form whose action is exactly `action` (the account page has several under /account/passkeys). */
export function formWithExactAction(page: Page, action: string) {
  const form = page.html().querySelectorAll('form').find((f) => f.getAttribute('action') === action);
  if (!form) throw new Error(`no form ${action} on ${page.url}: ${page.body.slice(0, 300)}`);
  return form;
}

/** Posts that form with its hidden fields and `fields`. */
export function postForm(browser: Browser, page: Page, action: string, fields: Record<string, string>, stopAt?: (location: string) => boolean): Promise<Page> {
  const form = formWithExactAction(page, action);
  const hidden: Record<string, string> = {};
  for (const input of form.querySelectorAll('input[type=hidden]')) hidden[input.getAttribute('name')!] = input.getAttribute('value') ?? '';
  return browser.follow(new URL(action, page.url).href, stopAt, { method: 'POST', form: { ...hidden, ...fields } });
}

/** Gives the account a passkey through the factor itself (the account page's screens have their own test). */
export async function givePasskey(server: TestServer, base: string, accountId: string, authenticator: import('./software-authenticator.js').SoftwareAuthenticator, name = 'Sleutelbos') {
  const holder = { accountId, flowId: `setup-${accountId.slice(0, 8)}` };
  const options = await server.sleutel.flows.passkey.registrationOptions(holder, { name: 'x', displayName: 'x' });
  const { response, credential } = authenticator.register(options as never, base);
  const result = await server.sleutel.flows.passkey.register(holder, JSON.stringify(response), name);
  if (!result.ok) throw new Error(`passkey setup: ${result.reason}`);
  return credential;
}

/** The options a passkey form carries in its data attribute. */
export function optionsOf(page: Page, action: string, attribute: 'data-passkey-register' | 'data-passkey-authenticate') {
  const value = formWithExactAction(page, action).getAttribute(attribute);
  if (!value) throw new Error(`no ${attribute} on ${action}`);
  return JSON.parse(value) as { challenge: string; rp?: { id?: string }; rpId?: string; user?: { id: string } };
}
