import type { Context, Middleware } from 'koa';
import { ServiceUnavailable, SleutelError } from '../../errors.js';
import { isStoreUnavailable } from '../../stores/unavailable.js';
import { chooseLocale, type Views } from '../views.js';

/**
 * Turns errors thrown by our own routes into a clear page (or JSON for API paths). oidc-provider's
 * routes handle their own errors through renderError. Unexpected errors are logged with the
 * request id and shown without details.
 */
export function errorPage(views: Views): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      // nothing answered (no route of ours, none of oidc-provider's): our 404 rather than Koa's plain text
      if (ctx.status === 404 && ctx.body === undefined) {
        respond(ctx, views, { status: 404, code: 'not_found', messageKey: 'error.not_found', description: 'no such page' });
      }
    } catch (error) {
      const answer = classify(error);
      if (answer.status >= 500 && answer.status !== 503) ctx.state.log?.error({ err: error }, 'unexpected error');
      else if (answer.status === 503) ctx.state.log?.warn({ err: { message: (error as Error).message } }, 'store unavailable');
      respond(ctx, views, answer);
    }
  };
}

interface Answer {
  status: number;
  code: string;
  messageKey: string;
  description: string;
}

function classify(thrown: unknown): Answer {
  // a driver's "cannot reach Postgres/Redis" becomes our ServiceUnavailable: one error hierarchy answers
  const error = isStoreUnavailable(thrown) || (thrown as { status?: number }).status === 503 ? new ServiceUnavailable() : thrown;
  if (error instanceof SleutelError) {
    return { status: error.status, code: error.code, messageKey: error.messageKey, description: error.message };
  }
  const status = (error as { status?: number; expose?: boolean }).status;
  if (status && status >= 400 && status < 500) {
    return { status, code: 'invalid_request', messageKey: status === 404 ? 'error.not_found' : 'error.bad_request', description: (error as Error).message };
  }
  return { status: 500, code: 'server_error', messageKey: 'error.internal', description: 'unexpected error' };
}

export function respond(ctx: Context, views: Views, answer: Answer): void {
  ctx.status = answer.status;
  if (answer.status === 503) ctx.set('Retry-After', '30');
  if (ctx.path.startsWith('/manage/') || (!ctx.accepts('html') && ctx.accepts('json'))) {
    ctx.body = { error: answer.code, error_description: answer.description };
    return;
  }
  const locale = ctx.state.locale ?? chooseLocale(undefined, ctx.get('accept-language'));
  ctx.type = 'html';
  ctx.body = views.render('error', locale, { messageKey: answer.messageKey, code: answer.code });
}
