import { createHash, randomBytes } from 'node:crypto';
import { totp } from '../../test/helpers/totp.js';
import { CookieJar, hiddenField, HttpClient, type Response } from './http.js';
import { nowMs, round, Samples, sleep } from './stats.js';

/**
 * Drives full logins through a relying party's eyes: authorize → (password → TOTP code, for
 * Sleutel) → callback with a code → code exchange at /token with PKCE and client_secret_basic.
 * Each step's latency is recorded; a login counts only when the token response carries an ID
 * token with the expected acr.
 */
export interface LoginTarget {
  name: string;
  http: HttpClient;
  clientId: string;
  secret: string;
  redirectUri: string;
  scope: string;
  /** Sleutel's screens between authorize and the callback; undefined for the bare provider (signs in at once) */
  screens?: { accounts: AccountPool; password: string };
  expectedAcr?: string;
}

export interface LoginTokens {
  access_token: string;
  refresh_token?: string;
  id_token: string;
}

/**
 * authorize: GET /auth until the login screen is shown (bare: until the callback);
 * password: the form posted until the code screen is shown; code: the code posted until the
 * relying party's callback is reached (POST /interaction/…/code and the redirect through
 * /auth/…), with code_submit the POST alone; exchange: the code redeemed at /token; login: all.
 */
export const STEPS = ['authorize', 'password', 'code', 'code_submit', 'exchange', 'login'] as const;
export type Step = (typeof STEPS)[number];

export class StepSamples {
  readonly steps = Object.fromEntries(STEPS.map((s) => [s, new Samples()])) as Record<Step, Samples>;
  ok = 0;
  failed = 0;
  firstError?: string;

  summary() {
    return Object.fromEntries(STEPS.map((s) => [s, this.steps[s].summary()])) as Record<Step, ReturnType<Samples['summary']>>;
  }
}

/**
 * Accounts with 2FA, each used at most once per TOTP time step, so no code is ever a replay:
 * an account comes back into the pool for the next step; when all are used, the driver waits.
 */
export class AccountPool {
  private readonly queue: { email: string; secret: string; lastStep: number }[];
  /** how often a login had to wait for the next time step (all accounts used in this one) */
  waits = 0;

  constructor(accounts: { email: string; secret: string }[]) {
    this.queue = accounts.map((a) => ({ ...a, lastStep: 0 }));
  }

  async take(): Promise<{ email: string; secret: string; step: number }> {
    for (;;) {
      const step = Math.floor(Date.now() / 30_000);
      const next = this.queue[0];
      if (next && next.lastStep < step) {
        this.queue.shift();
        next.lastStep = step;
        this.queue.push(next);
        return { email: next.email, secret: next.secret, step };
      }
      this.waits += 1;
      await sleep(100);
    }
  }
}

const base64url = (b: Buffer) => b.toString('base64url');

function expect(response: Response, status: number, what: string): Response {
  if (response.status !== status) throw new Error(`${what}: HTTP ${response.status} (expected ${status}) ${response.location ?? ''} ${response.body.slice(0, 200)}`);
  return response;
}

async function timed<T>(samples: StepSamples | undefined, step: Step, action: () => Promise<T>): Promise<T> {
  const started = nowMs();
  const result = await action();
  samples?.steps[step].add(nowMs() - started);
  return result;
}

/** One full login; returns the tokens. Throws on anything unexpected. */
export async function login(target: LoginTarget, samples?: StepSamples): Promise<LoginTokens> {
  // an account first (waiting for a fresh time step, if it comes to that, is not the server's time)
  const account = target.screens ? await target.screens.accounts.take() : undefined;
  const started = nowMs();
  const jar = new CookieJar();
  const { http } = target;
  const verifier = base64url(randomBytes(32));
  const state = base64url(randomBytes(12));
  const nonce = base64url(randomBytes(12));
  const query = new URLSearchParams({
    client_id: target.clientId,
    redirect_uri: target.redirectUri,
    response_type: 'code',
    scope: target.scope,
    code_challenge: base64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
    state,
    nonce,
  });

  let callback: string;
  if (target.screens && account) {
    const { screens } = target;
    const loginPage = await timed(samples, 'authorize', async () => {
      const auth = expect(await http.request('GET', `/auth?${query}`, { jar }), 303, 'authorize');
      return { uid: auth.location!, page: expect(await http.request('GET', auth.location!, { jar }), 200, 'login page') };
    });
    const interaction = loginPage.uid; // /interaction/<uid>
    const challenge = await timed(samples, 'password', async () => {
      const form = { csrf: hiddenField(loginPage.page.body, 'csrf') ?? '', email: account.email, password: screens.password };
      const posted = expect(await http.request('POST', `${interaction}/login`, { jar, form }), 303, 'password');
      const page = expect(await http.request('GET', posted.location!, { jar }), 200, 'challenge page');
      if (!page.body.includes(`${interaction}/code`)) throw new Error(`no code form after the password: ${page.body.slice(0, 200)}`);
      return page;
    });
    callback = await timed(samples, 'code', async () => {
      const code = totp(account.secret, 0, account.step * 30);
      const form = { csrf: hiddenField(challenge.body, 'csrf') ?? '', code };
      const posted = await timed(samples, 'code_submit', async () => expect(await http.request('POST', `${interaction}/code`, { jar, form }), 303, 'code'));
      const resumed = expect(await http.request('GET', posted.location!, { jar }), 303, 'resume');
      return resumed.location!;
    });
  } else {
    callback = await timed(samples, 'authorize', async () => {
      const auth = expect(await http.request('GET', `/auth?${query}`, { jar }), 303, 'authorize');
      const interaction = expect(await http.request('GET', auth.location!, { jar }), 303, 'interaction');
      const resumed = expect(await http.request('GET', interaction.location!, { jar }), 303, 'resume');
      return resumed.location!;
    });
  }

  if (!callback.startsWith(target.redirectUri)) throw new Error(`not back at the relying party: ${callback}`);
  const params = new URL(callback).searchParams;
  if (params.get('state') !== state || !params.get('code')) throw new Error(`callback without code or with another state: ${callback}`);
  const tokens = await timed(samples, 'exchange', async () => {
    const response = expect(
      await http.request('POST', '/token', {
        headers: { authorization: `Basic ${Buffer.from(`${target.clientId}:${target.secret}`).toString('base64')}` },
        form: { grant_type: 'authorization_code', code: params.get('code')!, redirect_uri: target.redirectUri, code_verifier: verifier },
      }),
      200,
      'code exchange',
    );
    return JSON.parse(response.body) as LoginTokens;
  });
  const claims = JSON.parse(Buffer.from(tokens.id_token.split('.')[1]!, 'base64url').toString('utf8')) as { nonce?: string; acr?: string };
  if (claims.nonce !== nonce) throw new Error('ID token with another nonce');
  if (target.expectedAcr && claims.acr !== target.expectedAcr) throw new Error(`ID token acr ${claims.acr}, expected ${target.expectedAcr}`);
  samples?.steps.login.add(nowMs() - started);
  return tokens;
}

/** Closed loop: `concurrency` logins at a time for `seconds`. */
export async function closedLoop(target: LoginTarget, concurrency: number, seconds: number) {
  const samples = new StepSamples();
  const until = nowMs() + seconds * 1000;
  const started = nowMs();
  const worker = async () => {
    while (nowMs() < until) {
      try {
        await login(target, samples);
        samples.ok += 1;
      } catch (error) {
        samples.failed += 1;
        samples.firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (nowMs() - started) / 1000;
  return { perSecond: round(samples.ok / elapsed), elapsed: round(elapsed), samples };
}

/** Open loop: a login started every 1/rate seconds (at most `maxInFlight` at once) for `seconds`. */
export async function openLoop(target: LoginTarget, rate: number, seconds: number, maxInFlight = 64) {
  const samples = new StepSamples();
  const started = nowMs();
  const running = new Set<Promise<void>>();
  let skipped = 0;
  const total = Math.max(1, Math.round(rate * seconds));
  for (let i = 0; i < total; i += 1) {
    const due = started + (i * 1000) / rate;
    const wait = due - nowMs();
    if (wait > 0) await sleep(wait);
    if (running.size >= maxInFlight) {
      skipped += 1;
      continue;
    }
    const run = login(target, samples)
      .then(() => void (samples.ok += 1))
      .catch((error: Error) => {
        samples.failed += 1;
        samples.firstError ??= error.message;
      })
      .finally(() => running.delete(run));
    running.add(run);
  }
  await Promise.all(running);
  const elapsed = (nowMs() - started) / 1000;
  return { perSecond: round(samples.ok / elapsed), elapsed: round(elapsed), skipped, samples };
}
