import type { Middleware } from 'koa';

/**
 * Headers on every response, the provider's included. No inline script is allowed: our screens
 * have no JavaScript at all; oidc-provider's form_post page adds the hash of its one script itself
 * (it extends script-src), which is why script-src is 'self' rather than 'none'.
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

// Pass-through middleware here return next() rather than await it: an async layer costs every
// request (mostly oidc-provider's) a promise of its own.
export function securityHeaders(): Middleware {
  return (ctx, next) => {
    ctx.set('Content-Security-Policy', CSP);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    if (ctx.secure) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    return next();
  };
}
