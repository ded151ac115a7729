import Router from '@koa/router';

/** /healthz: the process answers. /readyz: the stores answer too (a load balancer's check). */
export function operationsRoutes(deps: { checks: Record<string, () => Promise<void>>; isShuttingDown: () => boolean }): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const results: Record<string, string> = {};
    await Promise.all(
      Object.entries(deps.checks).map(async ([name, check]) => {
        const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref());
        results[name] = await Promise.race([check(), timeout]).then(() => 'ok', () => 'unreachable');
      }),
    );
    const ready = !deps.isShuttingDown() && Object.values(results).every((r) => r === 'ok');
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: deps.isShuttingDown() ? 'shutting_down' : ready ? 'ready' : 'unavailable', checks: results };
  });
  return router;
}
