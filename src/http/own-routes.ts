import type Router from '@koa/router';
import type Koa from 'koa';
import compose from 'koa-compose';

/** The fixed beginning of a route path: up to its first parameter or pattern, lower-cased. */
const literalPrefix = (routePath: string) => routePath.split(/[:{(*?]/, 1)[0]!.replace(/\/+$/, '').toLowerCase();

/**
 * Our routers as one middleware, entered only by requests under one of their routes' fixed
 * beginnings; every other request (/token, /me, /auth, … — most of the traffic) goes straight on
 * to oidc-provider. Matching it against each router in turn, each an async layer of its own, was
 * a measurable part of a token request's CPU (`npm run bench`). Routes match case-insensitively
 * (path-to-regexp's default), so the prefixes do too; a route without a fixed beginning would
 * make every request enter.
 */
export function ownRoutes(routers: Router[]): Koa.Middleware {
  const prefixes = routers.flatMap((router) => router.stack.map((layer) => (typeof layer.path === 'string' ? literalPrefix(layer.path) : '')));
  const routes = compose(routers.map((router) => router.routes() as unknown as Koa.Middleware));
  if (prefixes.includes('')) return routes;
  // '/account/two-factor' is covered by '/account': only the shortest are compared
  const distinct = [...new Set(prefixes)];
  const shortest = distinct.filter((prefix) => !distinct.some((other) => other !== prefix && prefix.startsWith(other)));
  return (ctx, next) => {
    const requested = ctx.path.toLowerCase();
    return shortest.some((prefix) => requested.startsWith(prefix)) ? routes(ctx, next) : next();
  };
}
