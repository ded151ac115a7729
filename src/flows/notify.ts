import type { MailTemplate } from '../mail/mailer.js';
import type { Account } from '../stores/accounts.js';
import type { FlowDependencies } from './dependencies.js';

/** A notification mail to the account holder (DESIGN §6), in the language of the screen they used. */
export async function notify(
  deps: Pick<FlowDependencies, 'mailer' | 'tenants'>,
  account: Account,
  template: MailTemplate,
  locale: 'nl' | 'en',
  params: Record<string, string> = {},
): Promise<void> {
  const tenant = await deps.tenants.findById(account.tenantId);
  await deps.mailer.send({ to: account.email, template, locale, params: { name: account.name || account.email, tenant: tenant?.name ?? '', ...params } });
}
