import { createHash } from 'node:crypto';
import Router from '@koa/router';
import type { Views } from '../views.js';

/** The one stylesheet; an ETag lets browsers revalidate cheaply. */
export function assetRoutes(views: Views): Router {
  const router = new Router();
  const etag = `"${createHash('sha256').update(views.stylesheet).digest('base64url').slice(0, 16)}"`;
  router.get('/assets/sleutel.css', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.etag = etag;
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.type = 'text/css';
    ctx.body = views.stylesheet;
  });
  return router;
}
