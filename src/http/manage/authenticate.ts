import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { Forbidden, Unauthorized } from '../../errors.js';
import { findManageToken } from '../../oidc/manage-tokens.js';
import { ACR_TWO_FACTOR } from '../../policy/authentication-level.js';
import { mayReceiveManageScope, type Actor } from '../../policy/permissions.js';
import type { AccountStore } from '../../stores/accounts.js';
import type { ClientStore } from '../../stores/clients.js';

/**
 * Bearer token → actor. A service client's token acts for the client's tenant; a user's token for
 * the user, with their roles — and only when that login passed the second factor (admin power
 * needs 2FA) and the user still may manage (staff, a role, not disabled).
 */
export async function authenticate(ctx: Context, deps: { provider: Provider; issuer: string; clients: ClientStore; accounts: AccountStore }): Promise<Actor> {
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(ctx.get('authorization'));
  ctx.set('WWW-Authenticate', 'Bearer realm="sleutel-manage", scope="manage"');
  if (!match) throw new Unauthorized();
  const token = await findManageToken(deps.provider, deps.issuer, match[1]!);
  const client = token && (await deps.clients.find(token.clientId));
  if (!token || !client) {
    ctx.set('WWW-Authenticate', 'Bearer realm="sleutel-manage", scope="manage", error="invalid_token"');
    throw new Unauthorized('the token is unknown, expired, revoked or not for the management API');
  }
  if (!token.accountId) {
    if (client.pool !== null) throw new Unauthorized('only service clients act without a user');
    return { kind: 'service', tenantId: client.tenantId, clientId: client.clientId };
  }
  const account = await deps.accounts.findById(token.accountId);
  if (!account || account.tenantId !== client.tenantId || !mayReceiveManageScope(account, token.acr, ACR_TWO_FACTOR)) {
    throw new Forbidden('error.forbidden', 'the management API needs a staff account with a role that signed in with its second factor');
  }
  return { kind: 'user', tenantId: account.tenantId, accountId: account.id, roles: account.roles };
}
