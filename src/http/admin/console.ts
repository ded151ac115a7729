import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { z } from 'zod';
import { BadRequest, Forbidden, NotFound, SleutelError } from '../../errors.js';
import type { FlowDependencies } from '../../flows/dependencies.js';
import { ACR_TWO_FACTOR } from '../../policy/authentication-level.js';
import { mayReceiveManageScope, permission, type Actor } from '../../policy/permissions.js';
import type { Account } from '../../stores/accounts.js';
import type { Tenant } from '../../stores/tenants.js';
import type { Csrf } from '../csrf.js';
import { submittedForm } from '../forms.js';
import { screenRenderer } from '../screens.js';
import { chooseLocale, type Views } from '../views.js';
import { ConsoleSessions } from './console-session.js';

export interface ConsoleDeps {
  flows: FlowDependencies;
  provider: Provider;
  issuer: string;
  views: Views;
  csrf: Csrf;
  production: boolean;
}

export type UserActor = Extract<Actor, { kind: 'user' }>;

/** Who is using the console in this request: roles read fresh from the database. */
export interface Operator {
  actor: UserActor;
  account: Account;
  tenant: Tenant;
  slug: string;
}

/** A screen's message after a redirect; only these keys are shown (admin.notice_*). */
export const NOTICES = new Set([
  'required_on', 'required_off', 'reset', 'unblocked', 'disabled', 'enabled', 'roles', 'invited', 'policy', 'require_all_on', 'require_all_off', 'updated', 'pending_email',
]);

export const MAX_SEARCH = 100;
export const PAGE_SIZE = 20;

/** A 401 for a form posted after the console session ended: the page says how to sign in again. */
class ConsoleSignedOut extends SleutelError {
  constructor() {
    super(401, 'signed_out', 'admin.signed_out');
  }
}

/**
 * What the console's routes share: the signed-in operator (or the start of a sign-in), rendering
 * with the navigation, forms (CSRF checked, problems as a 4xx page) and the query (strictly read).
 */
export function consoleKit(deps: ConsoleDeps) {
  const sessions = new ConsoleSessions(deps.flows.kv, deps.production);
  const render = screenRenderer(deps);

  /** The tenant a path names; 404 for an unknown or malformed one. */
  const tenantOf = async (slug: string): Promise<Tenant> => {
    const tenant = slug.length <= 63 && /^[a-z0-9-]+$/.test(slug) ? await deps.flows.tenants.findBySlug(slug) : undefined;
    if (!tenant) throw new NotFound('error.not_found', 'no such tenant');
    return tenant;
  };

  /**
   * The operator of this request, or undefined when there is no console session. A session whose
   * account lost its roles, was disabled or removed is ended: the next request signs in again.
   * The session's tenant is not compared with the path's here: the use cases do that (another
   * tenant answers 404).
   */
  const operator = async (ctx: Context): Promise<Operator | undefined> => {
    ctx.state.locale = chooseLocale(undefined, ctx.get('accept-language'));
    const slug = String(ctx.params.slug ?? '');
    await tenantOf(slug);
    const session = await sessions.current(ctx);
    if (!session) return undefined;
    const account = await deps.flows.accounts.findById(session.accountId);
    const tenant = account && (await deps.flows.tenants.findById(account.tenantId));
    if (!account || !tenant || account.tenantId !== session.tenantId || !mayReceiveManageScope(account, session.acr, ACR_TWO_FACTOR)) {
      await sessions.end(ctx);
      throw new Forbidden('admin.refused', 'the console is for staff with the key_user or coop_admin role who signed in with 2FA');
    }
    const me: Operator = { actor: { kind: 'user', tenantId: account.tenantId, accountId: account.id, roles: account.roles }, account, tenant, slug };
    ctx.state.consoleOperator = me;
    return me;
  };

  /** For a screen (GET): the operator, or a redirect into the sign-in (then undefined). */
  const viewer = async (ctx: Context): Promise<Operator | undefined> => {
    const me = await operator(ctx);
    if (!me) ctx.redirect(`/admin/${ctx.params.slug}/sign-in?return=${encodeURIComponent(ctx.path)}`);
    return me;
  };

  /** For an action (POST): the operator and the validated form; a missing session is a 401 page. */
  const action = async <T extends z.ZodType>(ctx: Context, schema: T): Promise<{ me: Operator; data: z.infer<T> }> => {
    const me = await operator(ctx);
    if (!me) throw new ConsoleSignedOut();
    const form = await submittedForm(ctx, deps.csrf, schema);
    if (!form.ok) throw new SleutelError(form.status, 'invalid_request', form.messageKey);
    return { me, data: form.data };
  };

  /** Renders a console screen in the wide layout, with the navigation the operator's roles allow. */
  const show = (ctx: Context, me: Operator, template: string, section: string, data: Record<string, unknown>, status = 200) => {
    const notice = typeof ctx.query.notice === 'string' && NOTICES.has(ctx.query.notice) ? `admin.notice_${ctx.query.notice}` : undefined;
    render(ctx, template, {
      notice,
      ...data,
      tenantName: me.tenant.name,
      base: `/admin/${me.slug}`,
      section,
      me: { email: me.account.email, roles: me.account.roles },
      may: {
        cooperation: permission(me.actor, 'set_policy', 'tenant') === 'allowed',
        manageStaff: permission(me.actor, 'manage_accounts', 'staff') === 'allowed',
        requireStaff: permission(me.actor, 'require_two_factor', 'staff') === 'allowed',
        resetStaff: permission(me.actor, 'reset_two_factor', 'staff') === 'allowed',
        resetPortal: permission(me.actor, 'reset_two_factor', 'portal') === 'allowed',
      },
      wide: true,
    }, status);
  };

  /** Redirect-after-POST to a console path, with a notice. */
  const back = (ctx: Context, me: Operator, path: string, notice?: string) => {
    ctx.status = 303;
    const url = `/admin/${me.slug}${path}`;
    ctx.redirect(notice ? `${url}${url.includes('?') ? '&' : '?'}notice=${notice}` : url);
  };

  /**
   * A refusal or bad input met while signed in to this cooperative's console is shown inside the
   * console (its navigation, the message, a way back) with the error's status; anything else goes
   * on to the common error page (errorPage), as on every other screen.
   */
  const guard = (handler: (ctx: Context) => Promise<void>) => async (ctx: Context) => {
    try {
      await handler(ctx);
    } catch (error) {
      const me = ctx.state.consoleOperator as Operator | undefined;
      if (!(error instanceof SleutelError) || error.status >= 500 || !me || me.tenant.slug !== me.slug) throw error;
      const section = ['users', 'portal', 'cooperation', 'overview'].find((name) => ctx.path.startsWith(`/admin/${me.slug}/${name}`)) ?? 'users';
      const messageKey = error.messageKey === 'error.forbidden' ? 'admin.forbidden' : error.messageKey;
      show(ctx, me, 'admin-error', section, { title: 'error.title', messageKey, code: error.code, detail: error.message, back: `/admin/${me.slug}/${section}` }, error.status);
    }
  };

  return { sessions, render, tenantOf, operator, viewer, action, show, back, guard };
}

export type ConsoleKit = ReturnType<typeof consoleKit>;

/**
 * The query string, read strictly: broken percent-encoding or UTF-8 (U+FFFD after decoding), NUL
 * bytes, a repeated or over-long parameter are a 400, not something to search for.
 */
export function strictQuery(ctx: Context, allowed: string[]): Record<string, string> {
  if (ctx.querystring.length > 1000) throw new BadRequest('admin.bad_query', 'query string too long');
  const out: Record<string, string> = {};
  for (const part of ctx.querystring.split('&').filter(Boolean)) {
    const [rawName = '', rawValue = ''] = part.split(/=(.*)/s);
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      value = decodeURIComponent(rawValue.replace(/\+/g, ' '));
    } catch {
      throw new BadRequest('admin.bad_query', 'broken percent-encoding');
    }
    if (/[\u0000\uFFFD]/.test(value)) throw new BadRequest('admin.bad_query', 'unreadable characters');
    if (!allowed.includes(name)) continue;
    if (name in out) throw new BadRequest('admin.bad_query', `${name} given twice`);
    out[name] = value;
  }
  return out;
}

/** Page number (1-based) from the query; a page past the last is a 404 (the list has no such page). */
export function pageNumber(value: string | undefined): number {
  if (value === undefined || value === '') return 1;
  if (!/^[1-9][0-9]{0,5}$/.test(value)) throw new BadRequest('admin.bad_query', 'page must be a positive number');
  return Number(value);
}

export function checkPage(page: number, total: number, size: number): number {
  const pages = Math.max(1, Math.ceil(total / size));
  if (page > pages) throw new NotFound('admin.no_such_page', 'past the last page');
  return pages;
}

/** The search text: at most MAX_SEARCH characters. */
export function searchText(value: string | undefined): string {
  const text = (value ?? '').trim();
  if (text.length > MAX_SEARCH) throw new BadRequest('admin.search_too_long', 'search text too long');
  return text;
}

/** An account id from a path: anything but a UUID is no account of this tenant (404, like another tenant's). */
export function accountIdOf(ctx: Context): string {
  const id = String(ctx.params.id ?? '');
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw new NotFound('error.not_found', 'no such account');
  return id;
}

/** A form without fields (the CSRF token only). */
export const emptyForm = z.object({});
