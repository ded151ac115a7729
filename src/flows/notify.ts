import type { Locale } from '../locale.js';
import type { MailTemplate } from '../mail/mailer.js';
import type { Account } from '../stores/accounts.js';
import type { FlowDependencies } from './dependencies.js';

/**
 * A notification mail to the account holder (docs/rules.md § Security bar), in the language of
 * the screen they used — or, for what an admin did, the language they last used (`account.locale`). `to` sends it to
 * another address of theirs (an e-mail change tells the old address and asks the new one).
 */
export async function notify(
  deps: Pick<FlowDependencies, 'mailer' | 'tenants'>,
  account: Account,
  template: MailTemplate,
  locale: Locale = account.locale,
  params: Record<string, string> = {},
  options: { to?: string } = {},
): Promise<void> {
  const tenant = await deps.tenants.findById(account.tenantId);
  await deps.mailer.send({ to: options.to ?? account.email, template, locale, params: { name: account.name || account.email, tenant: tenant?.name ?? '', ...params } });
}
