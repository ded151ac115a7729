import Router from '@koa/router';
import type { Middleware } from 'koa';
import client from 'prom-client';
import { PASSWORD_HASHING_CONCURRENCY, passwordHashingLoad } from '../factors/password.js';

/**
 * Prometheus metrics (GET /metrics). Request durations are labelled by route pattern (ours) or
 * oidc-provider's route name, never by path: no e-mail addresses or ids in labels. The security
 * counters are fed by the audit log, so every audited event is also counted.
 */
export class Metrics {
  readonly registry = new client.Registry();
  private readonly duration = new client.Histogram({
    name: 'sleutel_http_request_duration_seconds',
    help: 'HTTP request duration by route',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly events = new client.Counter({ name: 'sleutel_audit_events_total', help: 'Audited security events by type', labelNames: ['type'] as const, registers: [this.registry] });
  private readonly logins = new client.Counter({ name: 'sleutel_logins_total', help: 'Password steps of logins by result', labelNames: ['result'] as const, registers: [this.registry] });
  private readonly challenges = new client.Counter({
    name: 'sleutel_second_factor_challenges_total',
    help: 'Codes and recovery codes checked, by kind and result',
    labelNames: ['kind', 'result'] as const,
    registers: [this.registry],
  });
  private readonly lockouts = new client.Counter({ name: 'sleutel_lockouts_total', help: 'Accounts locked after failures', registers: [this.registry] });
  private readonly enrollments = new client.Counter({ name: 'sleutel_two_factor_enrollments_total', help: 'Two-factor enrollments confirmed', registers: [this.registry] });
  // Back-channel logouts by outcome after the retries; a growing `failed` means a relying party
  // kept sessions Sleutel ended (the log line names the client, the URL and why).
  private readonly backchannelLogouts = new client.Counter({
    name: 'sleutel_backchannel_logouts_total',
    help: 'Back-channel logouts sent to relying parties, by outcome (failed: after the retries)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  // Saturation of password checks: waiting > 0 for long means logins queue for argon2 (more CPUs or instances).
  private readonly passwordHashes = new client.Gauge({
    name: 'sleutel_password_hashes',
    help: `argon2 computations running (at most ${PASSWORD_HASHING_CONCURRENCY} at once) and waiting for a turn`,
    labelNames: ['state'] as const,
    registers: [this.registry],
    collect() {
      const load = passwordHashingLoad();
      this.set({ state: 'running' }, load.running);
      this.set({ state: 'waiting' }, load.waiting);
    },
  });

  constructor() {
    // both series from the start, so an alert on an increase of `failed` sees its first one
    for (const result of ['delivered', 'failed'] as const) this.backchannelLogouts.inc({ result }, 0);
  }

  /** Process metrics (memory, CPU, event loop); once per process, not per test server. */
  collectProcessMetrics(): void {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'sleutel_' });
  }

  middleware(): Middleware {
    return async (ctx, next) => {
      const end = this.duration.startTimer({ method: ctx.method });
      try {
        await next();
      } finally {
        const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? (ctx as { oidc?: { route?: string } }).oidc?.route ?? 'unmatched';
        end({ route: String(route), status: String(ctx.status) });
      }
    };
  }

  /** Called by the audit log for each event it records. */
  countAuditEvent(type: string, details: Record<string, unknown> = {}): void {
    this.events.inc({ type });
    if (type === 'login.succeeded') this.logins.inc({ result: 'succeeded' });
    if (type === 'login.failed' || type === 'login.refused_locked') this.logins.inc({ result: 'failed' });
    if (type === 'second_factor.succeeded' || type === 'second_factor.failed') {
      this.challenges.inc({ kind: String(details.kind ?? 'code'), result: type.endsWith('succeeded') ? 'passed' : 'failed' });
    }
    if (type === 'account.locked') this.lockouts.inc();
    if (type === 'two_factor.enabled') this.enrollments.inc();
  }

  countBackchannelLogout(result: 'delivered' | 'failed'): void {
    this.backchannelLogouts.inc({ result });
  }

  routes(): Router {
    const router = new Router();
    router.get('/metrics', async (ctx) => {
      ctx.type = this.registry.contentType;
      ctx.body = await this.registry.metrics();
    });
    return router;
  }
}
