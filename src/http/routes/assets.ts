import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import Router from '@koa/router';
import { interactionsDir, type Views } from '../views.js';

/**
 * The static files of the screens, each with an ETag so browsers revalidate cheaply: the one
 * stylesheet, and for the passkey screens @simplewebauthn/browser's standalone build (one classic
 * script, window.SimpleWebAuthnBrowser) and our own interactions/passkey.js — served by us, so the
 * CSP stays script-src 'self'.
 */
export function assetRoutes(views: Views): Router {
  const router = new Router();
  const serve = (route: string, type: string, body: string | Buffer) => {
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;
    router.get(route, (ctx) => {
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.etag = etag;
      ctx.status = 200; // Koa judges freshness only for a 2xx response (the default is 404)
      if (ctx.fresh) {
        ctx.status = 304;
        return;
      }
      ctx.type = type;
      ctx.body = body;
    });
  };
  serve('/assets/sleutel.css', 'text/css', views.stylesheet);
  // the package exports only its ES modules; the bundle lies beside them
  const browserPackage = path.dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser'));
  serve('/assets/webauthn.js', 'application/javascript', readFileSync(path.join(browserPackage, '../dist/bundle/index.umd.min.js')));
  serve('/assets/passkey.js', 'application/javascript', readFileSync(path.join(interactionsDir, 'passkey.js')));
  return router;
}
