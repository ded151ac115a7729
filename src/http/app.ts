import type Router from '@koa/router';
import Koa from 'koa';
import mount from 'koa-mount';
import type Provider from 'oidc-provider';
import type { Logger } from '../log.js';
import { errorPage } from './middleware/error-page.js';
import type { Metrics } from './metrics.js';
import { ownRoutes } from './own-routes.js';
import { requestContext } from './middleware/request-context.js';
import { securityHeaders } from './middleware/security-headers.js';
import type { Views } from './views.js';

/**
 * The Koa application: request context and headers around everything, our routes, then
 * oidc-provider mounted at the root for the rest (discovery, /auth, /token, /jwks, …). A router
 * passes requests it does not match on, so the provider sees them. oidc-provider renders its own
 * errors, so errorPage only ever sees ours. Body parsing happens only inside our routes.
 * Requests outside our routes' paths skip them at once (ownRoutes).
 */
export function createApp(deps: {
  provider: Provider;
  log: Logger;
  views: Views;
  trustProxy: boolean;
  cookieKeys: string[];
  routers: Router[];
  /** middleware around the provider (e.g. after a logout) */
  aroundProvider: Koa.Middleware[];
  metrics: Metrics;
  isShuttingDown: () => boolean;
}): Koa {
  const app = new Koa();
  app.proxy = deps.trustProxy;
  app.keys = deps.cookieKeys;
  app.silent = true; // errors are logged by our middleware, with the request id
  app.use(requestContext(deps.log));
  app.use(deps.metrics.middleware());
  app.use((ctx, next) => {
    // while draining, clients get their answer but no kept-alive connection to come back on
    if (deps.isShuttingDown()) ctx.set('Connection', 'close');
    return next();
  });
  app.use(securityHeaders());
  app.use(errorPage(deps.views));
  app.use(ownRoutes(deps.routers));
  for (const middleware of deps.aroundProvider) app.use(middleware);
  app.use(mount(deps.provider as unknown as Koa));
  return app;
}
