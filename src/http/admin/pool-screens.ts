import type { Context } from 'koa';
import type { AccountView } from '../../admin/account-view.js';
import { getAccount } from '../../admin/accounts.js';
import type { AdminDependencies } from '../../admin/context.js';
import { searchAccounts } from '../../admin/search-accounts.js';
import { NotFound } from '../../errors.js';
import type { Pool } from '../../policy/tenant-policy.js';
import { checkPage, PAGE_SIZE, pageNumber, searchText, strictQuery, type ConsoleKit, type Operator } from './console.js';

/** What the staff and the portal screens share: one pool's accounts, listed and opened. */
export function poolScreens(kit: ConsoleKit, flows: AdminDependencies, pool: Pool) {
  /** An account of the operator's tenant in this pool (one of the other pool is not on this screen: 404). */
  const account = async (me: Operator, id: string, ip: string): Promise<AccountView> => {
    const view = await getAccount(flows, me.actor, me.slug, id, ip);
    if (view.pool !== pool) throw new NotFound('error.not_found', `not a ${pool} account`);
    return view;
  };

  /** The searchable, paged list. */
  const list = (template: string, section: string, title: string) =>
    kit.guard(async (ctx: Context) => {
      const me = await kit.viewer(ctx);
      if (!me) return;
      const query = strictQuery(ctx, ['q', 'page', 'notice']);
      const q = searchText(query.q);
      const page = pageNumber(query.page);
      const found = await searchAccounts(flows, me.actor, me.slug, { pool, query: q, offset: (page - 1) * PAGE_SIZE, limit: PAGE_SIZE }, ctx.ip);
      const pages = checkPage(page, found.total, PAGE_SIZE);
      kit.show(ctx, me, template, section, { title, accounts: found.accounts, total: found.total, q, page, pages });
    });

  return { account, list };
}
