import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import { InteractionExpired } from '../errors.js';
import { loginBinding, type SleutelClientMetadata } from './client-binding.js';
import { MANAGE_SCOPE, manageResource } from './manage-tokens.js';
import { MAX_AGE_ZERO_PARAM } from './logout-hook.js';

/** What a screen needs to know of a pending authorization request. */
export interface PendingInteraction {
  uid: string;
  prompt: 'login' | 'consent' | string;
  reasons: string[];
  clientId: string;
  binding: SleutelClientMetadata;
  params: { ui_locales?: string; login_hint?: string; acr_values?: string; max_age?: string };
  /** the account already signed in (a session exists) */
  accountId?: string;
  /**
   * The session's account only has to pass a fresh second factor (acr_values asked for it);
   * its password was proven when the session began.
   */
  stepUpOnly: boolean;
}

type NodeCtx = { req: IncomingMessage; res: ServerResponse };
type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

export { InteractionExpired };

/**
 * The only place that calls oidc-provider's interaction API. Flows receive a PendingInteraction
 * and answer through finishLogin / abort; they never see the provider.
 */
export class Interactions {
  /**
   * The interaction as oidc-provider read it for a request: a screen's handler loads it and then
   * finishes it, and each read would be another cookie check and store round trip.
   */
  private readonly perRequest = new WeakMap<IncomingMessage, Promise<Interaction>>();

  constructor(
    private readonly provider: Provider,
    /** whether this login may carry the management API scope (staff with a role, second factor passed) */
    private readonly mayManage: (accountId: string, acr: string | undefined) => Promise<boolean>,
  ) {}

  async load(ctx: NodeCtx): Promise<PendingInteraction> {
    const details = await this.details(ctx);
    const clientId = String(details.params.client_id);
    const binding = await loginBinding(this.provider, clientId, details.params);
    if (!binding) throw new InteractionExpired();
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    return {
      uid: details.uid,
      prompt: details.prompt.name,
      reasons: details.prompt.reasons,
      clientId,
      binding,
      params: {
        ui_locales: str(details.params.ui_locales),
        login_hint: str(details.params.login_hint),
        acr_values: str(details.params.acr_values),
        max_age: str(details.params.max_age) ?? (details.params[MAX_AGE_ZERO_PARAM] ? '0' : undefined),
      },
      accountId: details.session?.accountId,
      stepUpOnly: Boolean(details.session?.accountId) && details.prompt.reasons.length > 0 && details.prompt.reasons.every((r) => r === 'acr_step_up'),
    };
  }

  /**
   * Completes the login and grants what the client asked for: our clients are the tenant's own
   * applications, so there is no consent screen.
   */
  async finishLogin(ctx: NodeCtx, login: { accountId: string; acr: string; amr: string[] }): Promise<void> {
    const details = await this.details(ctx);
    const grantId = await this.grant(details, login.accountId, login.acr);
    await this.finish(ctx, details, { login: { ...login, remember: true }, consent: { grantId } });
  }

  /** A consent prompt (prompt=consent, or a scope the grant lacks): approve it for a first-party client. */
  async approveConsent(ctx: NodeCtx): Promise<void> {
    const details = await this.details(ctx);
    const accountId = details.session?.accountId;
    if (!accountId) throw new InteractionExpired();
    const grantId = await this.grant(details, accountId, details.session?.acr);
    await this.finish(ctx, details, { ...details.lastSubmission, consent: { grantId } });
  }

  async abort(ctx: NodeCtx): Promise<void> {
    await this.finish(ctx, await this.details(ctx), { error: 'access_denied', error_description: 'the user cancelled the sign-in' });
  }

  private details(ctx: NodeCtx): Promise<Interaction> {
    let details = this.perRequest.get(ctx.req);
    if (!details) {
      details = this.guard(() => this.provider.interactionDetails(ctx.req, ctx.res));
      this.perRequest.set(ctx.req, details);
    }
    return details;
  }

  /**
   * What oidc-provider's interactionFinished does, on the interaction this request already read:
   * the result stored for the rest of the interaction's lifetime, the browser sent back to the
   * authorization endpoint to resume. It mirrors that function (provider.js, interactionResult) with
   * the Interaction model's public persist(): compare the two at an oidc-provider upgrade.
   */
  private async finish(ctx: NodeCtx, details: Interaction, result: Interaction['result']): Promise<void> {
    details.result = result;
    await this.guard(() => details.persist());
    ctx.res.statusCode = 303;
    ctx.res.setHeader('Location', details.returnTo);
    ctx.res.setHeader('Content-Length', '0');
    ctx.res.end();
  }

  private async grant(details: Interaction, accountId: string, acr: string | undefined): Promise<string> {
    const clientId = String(details.params.client_id);
    const existing = details.grantId ? await this.provider.Grant.find(details.grantId) : undefined;
    const grant = existing?.accountId === accountId ? existing : new this.provider.Grant({ accountId, clientId });
    if (typeof details.params.scope === 'string') grant.addOIDCScope(details.params.scope);
    const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    grant.addOIDCClaims(requestedClaims(details.params.claims));
    // The management API scope only for who may have it; otherwise it is refused (not asked again).
    const resource = manageResource(this.provider.issuer);
    if (this.asksForManage(details, resource)) {
      if (await this.mayManage(accountId, acr)) grant.addResourceScope(resource, MANAGE_SCOPE);
      else grant.rejectResourceScope(resource, MANAGE_SCOPE);
    }
    return grant.save();
  }

  private asksForManage(details: Interaction, resource: string): boolean {
    const missing = (details.prompt.details as { missingResourceScopes?: Record<string, string[]> }).missingResourceScopes;
    if (missing?.[resource]?.includes(MANAGE_SCOPE)) return true;
    const resources = [details.params.resource ?? []].flat();
    const scopes = typeof details.params.scope === 'string' ? details.params.scope.split(' ') : [];
    return resources.includes(resource) && scopes.includes(MANAGE_SCOPE);
  }

  /** oidc-provider's SessionNotFound (missing or expired interaction cookie) becomes our clear 400 page. */
  private async guard<T>(action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      if (error instanceof errors.SessionNotFound) throw new InteractionExpired();
      throw error;
    }
  }
}

/** Claim names asked for through the `claims` request parameter (already validated by oidc-provider). */
function requestedClaims(claims: unknown): string[] {
  if (typeof claims !== 'string') return [];
  try {
    const parsed = JSON.parse(claims) as { id_token?: object; userinfo?: object };
    return [...Object.keys(parsed.id_token ?? {}), ...Object.keys(parsed.userinfo ?? {})];
  } catch {
    return [];
  }
}
