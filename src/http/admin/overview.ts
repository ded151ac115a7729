import Router from '@koa/router';
import { listAccounts } from '../../admin/accounts.js';
import type { AdminDependencies } from '../../admin/context.js';
import { auditEvents, twoFactorStats } from '../../admin/tenant-policy.js';
import { BadRequest } from '../../errors.js';
import { checkPage, pageNumber, strictQuery, type ConsoleKit } from './console.js';

const AUDIT_PAGE = 25;
const PERIODS: Record<string, number | undefined> = { '': undefined, '1': 1, '7': 7, '30': 30, '365': 365 };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * "Overzicht": 2FA adoption per pool (the stats of the management API) and the audit log, filtered
 * by account (id or e-mail address), type and period, paged. The log reads the newest 500 events
 * that match (the use case's limit); the filters narrow it down further.
 */
export function overviewRoutes(kit: ConsoleKit, deps: { flows: AdminDependencies }): Router {
  const router = new Router({ prefix: '/admin/:slug/overview' });
  const { flows } = deps;

  router.get('/', kit.guard(async (ctx) => {
    const me = await kit.viewer(ctx);
    if (!me) return;
    const query = strictQuery(ctx, ['account', 'type', 'period', 'page']);
    const account = (query.account ?? '').trim();
    const type = (query.type ?? '').trim();
    const period = query.period ?? '';
    if (account.length > 320 || (account && !UUID.test(account) && !/^[^\s@]+@[^\s@]+$/.test(account))) throw new BadRequest('admin.account_filter_invalid', 'account: an id or an e-mail address');
    if (type.length > 64 || (type && !/^[a-z_.]+$/.test(type))) throw new BadRequest('admin.type_filter_invalid', 'type: letters, dots and underscores');
    if (!(period in PERIODS)) throw new BadRequest('admin.bad_query', 'period: one of 1, 7, 30, 365 days');
    const page = pageNumber(query.page);

    const stats = await twoFactorStats(flows, me.actor, me.slug, ctx.ip);
    let accountId: string | undefined = account && UUID.test(account) ? account.toLowerCase() : undefined;
    let unknownAccount = false;
    if (account && !accountId) {
      const matches = await listAccounts(flows, me.actor, me.slug, { email: account }, ctx.ip);
      accountId = (matches.find((a) => a.pool === 'staff') ?? matches[0])?.id;
      unknownAccount = !accountId;
    }
    const days = PERIODS[period];
    const since = days === undefined ? undefined : new Date(Date.now() - days * 86400_000);
    const events = unknownAccount ? [] : await auditEvents(flows, me.actor, me.slug, { account: accountId, type: type || undefined, since }, ctx.ip);
    const pages = checkPage(page, events.length, AUDIT_PAGE);
    const filters = new URLSearchParams(Object.entries({ account, type, period }).filter(([, v]) => v));
    kit.show(ctx, me, 'admin-overview', 'overview', {
      title: 'admin.overview_title',
      stats,
      events: events.slice((page - 1) * AUDIT_PAGE, page * AUDIT_PAGE),
      total: events.length,
      filter: { account, type, period },
      filterQuery: filters.toString(),
      page,
      pages,
    });
  }));

  return router;
}
