import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from '../log.js';
import type { BackchannelClient, BackchannelLogouts } from './backchannel.js';

/**
 * The error events of the endpoints a relying party calls. oidc-provider answers them with a generic
 * text (`invalid_grant`, "client authentication failed"); the reason is in the error's
 * `error_detail` or its `cause`, which only this log line shows the deployer.
 */
const REFUSALS = {
  'grant.error': 'token request refused',
  'introspection.error': 'introspection request refused',
  'revocation.error': 'revocation request refused',
  'userinfo.error': 'userinfo request refused',
  'authorization.error': 'authorization request refused',
  'end_session.error': 'logout request refused',
  'end_session_confirm.error': 'logout request refused',
} as const;

interface RefusalError {
  error?: string;
  error_description?: string;
  error_detail?: string;
  cause?: unknown;
}

/**
 * The client the request names, for the log: the authenticated one, else the `client_id` sent, else
 * the id part of HTTP Basic (the secret after the colon is never read).
 */
function claimedClientId(ctx: KoaContextWithOIDC): string | undefined {
  const known = ctx.oidc?.client?.clientId ?? ctx.oidc?.params?.client_id;
  if (typeof known === 'string') return known;
  const [scheme, value] = (ctx.get('authorization') || '').split(' ');
  if (scheme?.toLowerCase() !== 'basic' || !value) return undefined;
  const basic = Buffer.from(value, 'base64').toString('utf8');
  const colon = basic.indexOf(':');
  if (colon <= 0) return undefined;
  try {
    return decodeURIComponent(basic.slice(0, colon).replace(/\+/g, '%20'));
  } catch {
    return undefined;
  }
}

function refusalFields(ctx: KoaContextWithOIDC, error: RefusalError) {
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  return {
    client_id: claimedClientId(ctx),
    error: error.error,
    error_description: error.error_description,
    ...(error.error_detail ? { error_detail: error.error_detail } : {}),
    ...(cause ? { cause } : {}),
  };
}

/**
 * What Sleutel logs and counts of oidc-provider's events: server errors, refused requests (at
 * info: a relying party's mistake, not ours) and back-channel logouts. The request's own logger
 * carries its request id.
 */
export function observeProvider(provider: Provider, log: Logger, backchannel: BackchannelLogouts): void {
  const requestLog = (ctx: KoaContextWithOIDC): Logger => (ctx.state?.log as Logger | undefined) ?? log;
  provider.on('server_error', (ctx: KoaContextWithOIDC, error: Error) => requestLog(ctx).error({ err: error }, 'oidc-provider server error'));
  // one listener for several events: typed once here rather than per overload of Provider.on
  const events = provider as unknown as { on(event: string, listener: (ctx: KoaContextWithOIDC, error: RefusalError) => void): void };
  for (const [event, message] of Object.entries(REFUSALS)) {
    events.on(event, (ctx, error) => requestLog(ctx).info(refusalFields(ctx, error), message));
  }
  provider.on('backchannel.success', () => backchannel.delivered());
  provider.on('backchannel.error', (ctx, error, client, accountId, sid) =>
    backchannel.attemptFailed(client as unknown as BackchannelClient, accountId, sid, error, 1, requestLog(ctx)),
  );
  explainRuntimeWarning(log);
}

/**
 * oidc-provider 9 prints "Unsupported runtime" when loaded on Node.js below 22 LTS. Sleutel
 * supports Node.js 20.19 and later (its tests run on Node 20 in CI; the Docker image has Node 22),
 * so the warning is put in context once, rather than left looking like a fault.
 */
function explainRuntimeWarning(log: Logger): void {
  const lts = process.release?.lts;
  if (lts && lts.charCodeAt(0) >= 'Jod'.charCodeAt(0)) return;
  log.info(
    { node: process.versions.node },
    `Node.js ${process.versions.node}: oidc-provider's "Unsupported runtime" warning at start means it is tested on Node.js 22 LTS only; Sleutel supports and tests Node.js 20.19 and later (the Docker image runs Node.js 22)`,
  );
}
