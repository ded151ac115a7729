import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import Router from '@koa/router';
import { interactionsDir, type Views } from '../views.js';

/** The one stylesheet; an ETag lets browsers revalidate cheaply. */
export function assetRoutes(views: Views): Router {
  const router = new Router();
  const etag = `"${createHash('sha256').update(views.stylesheet).digest('base64url').slice(0, 16)}"`;
  router.get('/assets/sleutel.css', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.etag = etag;
    ctx.status = 200; // Koa judges freshness only for a 2xx response (the default is 404)
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.type = 'text/css';
    ctx.body = views.stylesheet;
  });
  // @simplewebauthn/browser's standalone build (one classic script, window.SimpleWebAuthnBrowser)
  // for the passkey screens (issue 21), served by us under CSP script-src 'self'; its package
  // exports only the ES modules, so the bundle is found beside them
  const webauthn = readFileSync(path.join(path.dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')), '../dist/bundle/index.umd.min.js'));
  const webauthnTag = `"${createHash('sha256').update(webauthn).digest('base64url').slice(0, 16)}"`;
  router.get('/assets/webauthn.js', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.etag = webauthnTag;
    ctx.status = 200;
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.type = 'application/javascript';
    ctx.body = webauthn;
  });
  // our own script for the passkey screens (interactions/passkey.js): options from a data attribute, no inline script
  const passkeyScript = readFileSync(path.join(interactionsDir, 'passkey.js'));
  const passkeyTag = `"${createHash('sha256').update(passkeyScript).digest('base64url').slice(0, 16)}"`;
  router.get('/assets/passkey.js', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.etag = passkeyTag;
    ctx.status = 200;
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.type = 'application/javascript';
    ctx.body = passkeyScript;
  });
  return router;
}
