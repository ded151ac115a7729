import type { KeyValueStore } from '../../stores/kv/index.js';

/** What a challenge is for: adding a passkey (account page) or signing in with one (login). */
export type PasskeyPurpose = 'register' | 'authenticate';

/** How long the browser's dialog may take, and the challenge lives a little longer than that. */
export const CEREMONY_TIMEOUT_MS = 120_000;
export const CHALLENGE_TTL_SECONDS = 300;

/** A flow id is a login's interaction uid or the account page's session uid. */
const FLOW_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * WebAuthn challenges, single use: one per account, purpose and flow (a newer one replaces the
 * older), taken atomically by the one response that uses it, whether that response then passes or
 * not. The account id is the Redis Cluster hash tag, like the account's other entries.
 */
export class PasskeyChallenges {
  constructor(private readonly kv: KeyValueStore) {}

  private key(accountId: string, purpose: PasskeyPurpose, flowId: string): string {
    if (!FLOW_ID.test(flowId)) throw new Error('passkey challenge: malformed flow id');
    return `passkey-challenge:{${accountId}}:${purpose}:${flowId}`;
  }

  async keep(accountId: string, purpose: PasskeyPurpose, flowId: string, challenge: string): Promise<void> {
    await this.kv.set(this.key(accountId, purpose, flowId), challenge, CHALLENGE_TTL_SECONDS);
  }

  /** The challenge, for exactly one caller; null when there is none (expired, used, never made). */
  async take(accountId: string, purpose: PasskeyPurpose, flowId: string): Promise<string | null> {
    return this.kv.take(this.key(accountId, purpose, flowId));
  }
}
