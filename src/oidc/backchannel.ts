import type { Logger } from '../log.js';

/** How long Sleutel waits for a relying party's back-channel logout endpoint (docs/integration.md). */
export const BACKCHANNEL_TIMEOUT_MS = 5000;

/**
 * Waits before the retries of a back-channel logout that failed for a reason that may pass: the
 * relying party could not be reached, did not answer within the timeout (an Apache pool with every
 * worker busy), or answered 5xx (a restart). A refusal (4xx, a redirect) is not retried: it will not
 * change. The retries run in the background, so at most 3 attempts, none on a request's path.
 */
export const RETRY_DELAYS_MS = [500, 2000] as const;

/** What oidc-provider's Client offers for it (`backchannelLogout` is missing from its types). */
export interface BackchannelClient {
  clientId: string;
  backchannelLogoutUri?: string;
  backchannelLogout(sub: string, sid: string): Promise<void>;
}

export type BackchannelResult = 'delivered' | 'failed';

/** Why an attempt failed, for the log: the HTTP status, or the error and its cause (ECONNREFUSED, …). */
function describeFailure(error: unknown): { status?: number; error?: string; cause?: string } {
  const failure = error as { message?: string; name?: string; response?: { status?: number }; cause?: { code?: string; message?: string } };
  if (typeof failure?.response?.status === 'number') return { status: failure.response.status };
  const cause = failure?.cause?.code ?? failure?.cause?.message;
  return { error: failure?.name === 'TimeoutError' ? `no answer within ${BACKCHANNEL_TIMEOUT_MS / 1000} s` : String(failure?.message ?? error), ...(cause ? { cause } : {}) };
}

/** True for a failure that a later attempt may not have (see RETRY_DELAYS_MS). */
export function mayPass(error: unknown): boolean {
  const failure = describeFailure(error);
  if (failure.status !== undefined) return failure.status >= 500;
  // fetch failed (refused, reset, DNS) or the timeout; by name, as undici's realm is not always the caller's
  const name = (error as Error | undefined)?.name;
  return name === 'TypeError' || name === 'TimeoutError';
}

/**
 * Back-channel logouts, from both places that send them: oidc-provider's own RP-initiated logout
 * (its `backchannel.success` / `backchannel.error` events) and an account's sessions ended by
 * Sleutel (AccountSessions). The first attempt is the caller's; retries run in the background, so
 * a logout never waits longer for a relying party that is down. Each logout is counted once, and
 * one that finally failed is logged once, with the client, the URL, the account and why — never
 * the logout token.
 */
export class BackchannelLogouts {
  constructor(
    private readonly log: Logger,
    private readonly count: (result: BackchannelResult) => void,
    private readonly retryDelaysMs: readonly number[] = RETRY_DELAYS_MS,
  ) {}

  /** Sends one; resolves after the first attempt (never rejects). */
  async send(client: BackchannelClient, accountId: string, sid: string, log: Logger = this.log): Promise<void> {
    try {
      await client.backchannelLogout(accountId, sid);
      this.delivered();
    } catch (error) {
      this.attemptFailed(client, accountId, sid, error, 1, log);
    }
  }

  delivered(): void {
    this.count('delivered');
  }

  /** Attempt `attempt` failed: retried later when the reason may pass, else logged and counted. */
  attemptFailed(client: BackchannelClient, accountId: string, sid: string, error: unknown, attempt: number, log: Logger = this.log): void {
    const delay = this.retryDelaysMs[attempt - 1];
    if (delay !== undefined && mayPass(error)) {
      setTimeout(() => {
        client.backchannelLogout(accountId, sid).then(
          () => this.delivered(),
          (next: unknown) => this.attemptFailed(client, accountId, sid, next, attempt + 1, log),
        );
      }, delay).unref();
      return;
    }
    log.warn(
      { client_id: client.clientId, url: client.backchannelLogoutUri, sub: accountId, attempts: attempt, ...describeFailure(error) },
      'back-channel logout failed',
    );
    this.count('failed');
  }
}
