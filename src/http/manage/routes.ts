import Router from '@koa/router';
import coBody from 'co-body';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { z } from 'zod';
import { createAccount, getAccount, listAccounts, unblockAccount, updateAccount } from '../../admin/accounts.js';
import type { AdminDependencies } from '../../admin/context.js';
import { auditEvents, getPolicy, setPolicy, twoFactorStats } from '../../admin/tenant-policy.js';
import { resetTwoFactor, setTwoFactorRequirement } from '../../admin/two-factor.js';
import { BadRequest, NotFound } from '../../errors.js';
import type { Actor } from '../../policy/permissions.js';
import { authenticate } from './authenticate.js';
import { openApiDocument } from './openapi.js';
import * as s from './schemas.js';

interface Call<Params = { tenant: string; id: string }, Query = Record<string, unknown>, Body = unknown> {
  actor: Actor;
  params: Params;
  query: Query;
  body: Body;
  ip: string;
}

/** One route of the management API: its contract (for validation and the OpenAPI document) and its handler. */
export interface ManageRoute {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  summary: string;
  params: z.ZodObject;
  query?: z.ZodType;
  body?: z.ZodType;
  response: z.ZodType;
  status?: number;
  handle(call: Call): Promise<unknown>;
}

/**
 * A route whose handler is typed by the route's own schemas: the router has validated the call
 * with exactly these before the handler runs, so this is the one place their types are asserted.
 */
function route<P extends z.ZodObject, Q extends z.ZodType = z.ZodObject, B extends z.ZodType = z.ZodUndefined>(
  definition: Omit<ManageRoute, 'params' | 'query' | 'body' | 'handle'> & {
    params: P;
    query?: Q;
    body?: B;
    handle(call: Call<z.infer<P>, z.infer<Q>, z.infer<B>>): Promise<unknown>;
  },
): ManageRoute {
  return definition as unknown as ManageRoute;
}

export function manageRoutes(deps: AdminDependencies): ManageRoute[] {
  const accounts = '/tenants/{tenant}/accounts';
  const account = `${accounts}/{id}`;
  return [
    route({
      method: 'get', path: accounts, summary: 'List accounts (filter by pool and e-mail)', params: s.tenantParams, query: s.listAccountsQuery, response: s.accountList,
      handle: async (c) => ({ accounts: await listAccounts(deps, c.actor, c.params.tenant, c.query, c.ip) }),
    }),
    route({
      method: 'post', path: accounts, summary: 'Create an account', params: s.tenantParams, body: s.createAccountBody, response: s.accountView, status: 201,
      handle: (c) => createAccount(deps, c.actor, c.params.tenant, c.body, c.ip),
    }),
    route({
      method: 'get', path: account, summary: 'Read an account and its 2FA status', params: s.accountParams, response: s.accountView,
      handle: (c) => getAccount(deps, c.actor, c.params.tenant, c.params.id, c.ip),
    }),
    route({
      method: 'patch', path: account, summary: 'Change name, e-mail, roles or disabled', params: s.accountParams, body: s.updateAccountBody, response: s.accountView,
      handle: (c) => updateAccount(deps, c.actor, c.params.tenant, c.params.id, c.body, c.ip),
    }),
    route({
      method: 'put', path: `${account}/two-factor/requirement`, summary: 'Require 2FA for one staff account (or not)', params: s.accountParams, body: s.requirementBody, response: s.accountView,
      handle: (c) => setTwoFactorRequirement(deps, c.actor, c.params.tenant, c.params.id, c.body.required, c.ip),
    }),
    route({
      method: 'delete', path: `${account}/two-factor`, summary: 'Reset 2FA: secret, recovery code and remembered browsers removed, sessions ended', params: s.accountParams, response: s.accountView,
      handle: (c) => resetTwoFactor(deps, c.actor, c.params.tenant, c.params.id, c.ip),
    }),
    route({
      method: 'post', path: `${account}/unblock`, summary: 'Lift a lockout', params: s.accountParams, response: s.accountView,
      handle: (c) => unblockAccount(deps, c.actor, c.params.tenant, c.params.id, c.ip),
    }),
    route({
      method: 'get', path: '/tenants/{tenant}/policy', summary: 'The tenant policy; with preview, how many staff a tenant-wide requirement would affect', params: s.tenantParams, query: s.policyQuery, response: s.policyView,
      handle: (c) => getPolicy(deps, c.actor, c.params.tenant, c.query.preview === 'require_two_factor_for_all_staff', c.ip),
    }),
    route({
      method: 'put', path: '/tenants/{tenant}/policy', summary: 'Change the tenant policy; answers how many accounts were affected at once', params: s.tenantParams, body: s.policyBody, response: s.policyChange,
      handle: (c) => setPolicy(deps, c.actor, c.params.tenant, c.body, c.ip),
    }),
    route({
      method: 'get', path: '/tenants/{tenant}/two-factor/stats', summary: 'Accounts with and without 2FA per pool', params: s.tenantParams, response: s.stats,
      handle: (c) => twoFactorStats(deps, c.actor, c.params.tenant, c.ip),
    }),
    route({
      method: 'get', path: '/tenants/{tenant}/audit-events', summary: 'Security events, newest first', params: s.tenantParams, query: s.auditQuery, response: s.auditList,
      handle: async (c) => {
        const q = c.query;
        return { events: await auditEvents(deps, c.actor, c.params.tenant, { account: q.account, type: q.type, since: q.since ? new Date(q.since) : undefined }, c.ip) };
      },
    }),
  ];
}

/** "field: problem" for the first issue, so a 400 names what was wrong. */
function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.length ? issue.path.join('.') : where;
  const keys = 'keys' in issue && Array.isArray(issue.keys) ? ` (${issue.keys.join(', ')})` : '';
  throw new BadRequest('error.bad_request', `${field}: ${issue.message}${keys}`);
}

/** Deeper JSON than any body of this API has (policy is two levels); 30 000 levels once overflowed the stack. */
export const MAX_JSON_DEPTH = 32;

/**
 * The path of the first string holding a NUL byte or broken Unicode (Postgres stores neither),
 * walked without recursion; over MAX_JSON_DEPTH levels is refused as a problem of its own.
 */
function unstorableText(value: unknown): { path: string; problem: string } | undefined {
  const pending: { value: unknown; path: string; depth: number }[] = [{ value, path: '', depth: 0 }];
  while (pending.length) {
    const item = pending.pop()!;
    if (typeof item.value === 'string') {
      // U+FFFD is what broken UTF-8 in the body decodes to (as on the screens' forms)
      if (/[\u0000\uFFFD]/.test(item.value) || !item.value.isWellFormed()) return { path: item.path, problem: 'contains a NUL byte or broken Unicode' };
    } else if (item.value && typeof item.value === 'object') {
      if (item.depth >= MAX_JSON_DEPTH) return { path: item.path, problem: `nested deeper than ${MAX_JSON_DEPTH} levels` };
      // pushed last to first, so the first problem in document order is the one named
      for (const [key, inner] of Object.entries(item.value).reverse()) {
        if (/[\u0000\uFFFD]/.test(key) || !key.isWellFormed()) return { path: item.path, problem: 'a key contains a NUL byte or broken Unicode' };
        pending.push({ value: inner, path: item.path ? `${item.path}.${key}` : key, depth: item.depth + 1 });
      }
    }
  }
  return undefined;
}

/** A 400 naming the first unstorable place in a body or query. */
function refuseUnstorable(value: unknown, where: string): void {
  const bad = unstorableText(value);
  if (bad) throw new BadRequest('error.bad_request', `${bad.path || where}: ${bad.problem}`);
}

async function readJson(ctx: Context): Promise<unknown> {
  if (!ctx.is('application/json')) throw new BadRequest('error.bad_request', 'body: send application/json');
  let body: unknown;
  try {
    body = await coBody.json(ctx, { limit: '64kb', strict: true });
  } catch (error) {
    const status = (error as { status?: number }).status;
    throw new BadRequest('error.bad_request', status === 413 ? 'body: larger than 64 kB' : 'body: not valid JSON');
  }
  refuseUnstorable(body, 'body');
  return body;
}

/** The Koa router of /manage/v1: every call authenticated, every input validated, JSON out. */
export function manageRouter(deps: AdminDependencies & { provider: Provider; issuer: string }): Router {
  const router = new Router({ prefix: '/manage/v1' });
  const routes = manageRoutes(deps);
  // built at its first request: turning the schemas into JSON Schema took ~50 ms of every start
  let document: object | undefined;
  router.get('/openapi.json', (ctx) => {
    ctx.body = document ??= openApiDocument(deps.issuer, routes);
  });
  for (const route of routes) {
    router[route.method](route.path.replace(/\{(\w+)\}/g, ':$1'), async (ctx) => {
      ctx.set('Cache-Control', 'no-store');
      const actor = await authenticate(ctx, { provider: deps.provider, issuer: deps.issuer, clients: deps.clients, accounts: deps.accounts });
      const params = parse(route.params, ctx.params, 'path') as Call['params'];
      refuseUnstorable(ctx.query, 'query');
      const query = route.query ? (parse(route.query, ctx.query, 'query') as Record<string, unknown>) : {};
      const body = route.body ? parse(route.body, await readJson(ctx), 'body') : undefined;
      ctx.body = await route.handle({ actor, params, query, body, ip: ctx.ip });
      ctx.status = route.status ?? 200;
    });
  }
  // anything else under /manage/v1 is a JSON 404, not oidc-provider's plain-text one
  router.all('/{*rest}', () => {
    throw new NotFound('error.not_found', 'no such endpoint or method');
  });
  return router;
}
