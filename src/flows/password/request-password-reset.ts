import { createHash } from 'node:crypto';
import type { Pool } from '../../policy/tenant-policy.js';
import type { FlowDependencies } from '../dependencies.js';
import { notify } from '../notify.js';
import type { Locale } from '../../locale.js';

/** At most this many reset mails per address, and requests per IP address, per hour. */
export const RESET_LIMITS = { perAddress: 3, perIp: 20, windowSeconds: 3600 };

/**
 * "Wachtwoord vergeten" (docs/rules.md, rule 12). The caller always shows the same answer; the
 * work that differs between a known and an unknown address (a token, a mail) happens after the
 * answer, in the background, so neither the answer nor its timing tells whether the address exists.
 * Returns the background work, for tests and graceful shutdown to await.
 */
export async function requestPasswordReset(
  deps: FlowDependencies,
  input: { tenantId: string; pool: Pool; email: string; ip: string; locale: Locale },
): Promise<{ background: Promise<void> }> {
  const address = createHash('sha256').update(`${input.tenantId}:${input.pool}:${input.email.trim().toLowerCase()}`).digest('base64url');
  const [ipAllowed, addressAllowed] = await Promise.all([
    deps.rateLimits.allow(`reset-ip:${input.ip}`, RESET_LIMITS.perIp, RESET_LIMITS.windowSeconds),
    deps.rateLimits.allow(`reset-address:${address}`, RESET_LIMITS.perAddress, RESET_LIMITS.windowSeconds),
  ]);
  const account = await deps.accounts.findByEmail(input.tenantId, input.pool, input.email);
  const background = (async () => {
    if (!ipAllowed || !addressAllowed) {
      await deps.audit.record({ type: 'password.reset_rate_limited', tenantId: input.tenantId, accountId: account?.id, actor: 'anonymous', ip: input.ip });
      return;
    }
    if (!account || account.disabled) {
      await deps.audit.record({ type: 'password.reset_requested', tenantId: input.tenantId, actor: 'anonymous', ip: input.ip, details: { known: false } });
      return;
    }
    const token = await deps.passwordTokens.issue(account.id, 'reset');
    await deps.audit.record({ type: 'password.reset_requested', tenantId: input.tenantId, accountId: account.id, actor: 'anonymous', ip: input.ip, details: { known: true } });
    await notify(deps, account, 'password_reset', input.locale, { link: `${deps.issuer}/password/reset?token=${token}` });
  })().catch(() => {
    // the answer has gone out already; failures of the mail itself are logged by the mailer
  });
  return { background };
}
