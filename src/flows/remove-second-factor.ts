import type { MailTemplate } from '../mail/mailer.js';
import type { Account } from '../stores/accounts.js';
import type { AuditEventType } from '../stores/audit-events.js';
import type { FlowDependencies } from './dependencies.js';
import { notify } from './notify.js';
import type { Locale } from '../locale.js';

/**
 * Takes 2FA off an account — disable, recovery, admin reset (docs/rules.md, rules 9, 8, 10): secret
 * and recovery code removed, every remembered browser forgotten, sessions ended (but `keepSessionUid`,
 * the one the person is using), an audit event and a mail to the holder.
 */
export async function removeSecondFactor(
  deps: FlowDependencies,
  input: {
    account: Account;
    event: Extract<AuditEventType, 'two_factor.disabled' | 'two_factor.recovery_used' | 'two_factor.reset'>;
    mail: MailTemplate;
    actor: string;
    ip: string | null;
    locale: Locale;
    keepSessionUid?: string;
    endSessions: boolean;
  },
): Promise<void> {
  const { account } = input;
  await deps.secondFactors.remove(account.id);
  await deps.remembrances.forgetAll(account.id);
  const endedSessions = input.endSessions ? await deps.sessions.endAll(account.id, { exceptUid: input.keepSessionUid }) : 0;
  await deps.audit.record({ type: input.event, tenantId: account.tenantId, accountId: account.id, actor: input.actor, ip: input.ip, details: { ended_sessions: endedSessions } });
  await notify(deps, account, input.mail, input.locale);
}
