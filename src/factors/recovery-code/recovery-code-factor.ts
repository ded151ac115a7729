import type { SecondFactorStore } from '../../stores/second-factors.js';
import { isWellFormedRecoveryCode, recoveryCodeMatches } from '../recovery-code.js';
import type { CodeFactor } from '../second-factor.js';

/**
 * The recovery code (docs/rules.md, rule 8): made with the first factor's enrollment, used up by
 * exactly one request. Not a factor on its own: without another factor there is none.
 */
export class RecoveryCodeFactor implements CodeFactor {
  readonly id = 'recovery_code';
  readonly amr = ['rec'] as const;
  readonly phishingResistant = false;
  readonly standalone = false;

  constructor(private readonly store: SecondFactorStore) {}

  verifier(accountId: string): (code: string) => Promise<boolean> {
    return async (code) => {
      if (!isWellFormedRecoveryCode(code)) return false;
      const stored = await this.store.recoveryCodeHash(accountId);
      return Boolean(stored && recoveryCodeMatches(code, stored) && (await this.store.consumeRecoveryCode(accountId, stored)));
    };
  }
}
