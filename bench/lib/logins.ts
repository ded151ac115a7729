import { createHash, randomBytes } from 'node:crypto';
import { totp } from '../../test/helpers/totp.js';
import { CookieJar, hiddenField, HttpClient, type Response } from './http.js';
import { nowMs, round, Samples, sleep } from './stats.js';

/**
 * Drives full logins through a relying party's eyes: authorize → (password → TOTP code, or the
 * password alone, for Sleutel) → callback with a code → code exchange at /token with PKCE and
 * client_secret_basic. Each step's latency is recorded; a login counts only when the token response
 * carries an ID token with the expected acr.
 */
export interface LoginTarget {
  name: string;
  http: HttpClient;
  clientId: string;
  secret: string;
  redirectUri: string;
  scope: string;
  /** Sleutel's screens between authorize and the callback; undefined for the bare provider (signs in at once) */
  screens?: { accounts: AccountPool; password: string; secondFactor: boolean };
  expectedAcr?: string;
}

export interface LoginTokens {
  access_token: string;
  refresh_token?: string;
  id_token: string;
}

/**
 * authorize: GET /auth until the login screen is shown (bare: until the callback);
 * password: the form posted until the code screen is shown (password-only: until the callback);
 * code: the code posted until the relying party's callback is reached (POST /interaction/…/code
 * and the redirect through /auth/…), with code_submit the POST alone; exchange: the code redeemed
 * at /token; login: all.
 */
export const STEPS = ['authorize', 'password', 'code', 'code_submit', 'exchange', 'login'] as const;
export type Step = (typeof STEPS)[number];

export class StepSamples {
  readonly steps = Object.fromEntries(STEPS.map((s) => [s, new Samples()])) as Record<Step, Samples>;
  ok = 0;
  failed = 0;
  firstError?: string;
  /**
   * Server CPU per HTTP request of the login (ms, summed), when `probe` reads the server's CPU:
   * only meaningful one login at a time, where nothing else runs on the server between two reads.
   */
  readonly requestCpu = new Map<string, { ms: number; n: number }>();

  constructor(readonly probe?: () => number | null) {}

  summary() {
    return Object.fromEntries(STEPS.map((s) => [s, this.steps[s].summary()])) as Record<Step, ReturnType<Samples['summary']>>;
  }

  /** CPU per request of the login in ms, in the order the login makes them. */
  cpuPerRequest(): Record<string, number> {
    const perLogin = Math.max(1, this.ok);
    return Object.fromEntries([...this.requestCpu].map(([k, v]) => [k, round(v.ms / perLogin, 2)]));
  }
}

/**
 * Accounts handed out in turn. With `oncePerTimeStep` (accounts with 2FA) each is used at most once
 * per TOTP time step, so no code is ever a replay: an account comes back into the pool for the next
 * step; when all are used, the driver waits.
 */
export class AccountPool {
  private readonly queue: { email: string; secret: string; lastStep: number }[];
  /** how often a login had to wait for the next time step (all accounts used in this one) */
  waits = 0;

  constructor(
    accounts: { email: string; secret?: string }[],
    private readonly oncePerTimeStep = true,
  ) {
    this.queue = accounts.map((a) => ({ email: a.email, secret: a.secret ?? '', lastStep: 0 }));
  }

  async take(): Promise<{ email: string; secret: string; step: number }> {
    for (;;) {
      const step = Math.floor(Date.now() / 30_000);
      const next = this.queue[0];
      if (next && (!this.oncePerTimeStep || next.lastStep < step)) {
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
  // each request, and with a probe the server CPU it took, under a name of its place in the login
  const cpu = new Map<string, number>();
  const send = async (name: string, method: string, url: string, options: Parameters<HttpClient['request']>[2] = {}) => {
    const before = samples?.probe?.();
    const response = await http.request(method, url, { jar, ...options });
    const after = samples?.probe?.();
    if (before != null && after != null) cpu.set(name, (cpu.get(name) ?? 0) + after - before);
    return response;
  };
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
      const auth = expect(await send('GET /auth', 'GET', `/auth?${query}`), 303, 'authorize');
      return { uid: auth.location!, page: expect(await send('GET login screen', 'GET', auth.location!), 200, 'login page') };
    });
    const interaction = loginPage.uid; // /interaction/<uid>
    const form = { csrf: hiddenField(loginPage.page.body, 'csrf') ?? '', email: account.email, password: screens.password };
    if (screens.secondFactor) {
      const challenge = await timed(samples, 'password', async () => {
        const posted = expect(await send('POST password', 'POST', `${interaction}/login`, { form }), 303, 'password');
        const page = expect(await send('GET code screen', 'GET', posted.location!), 200, 'challenge page');
        if (!page.body.includes(`${interaction}/code`)) throw new Error(`no code form after the password: ${page.body.slice(0, 200)}`);
        return page;
      });
      callback = await timed(samples, 'code', async () => {
        const code = totp(account.secret, 0, account.step * 30);
        const codeForm = { csrf: hiddenField(challenge.body, 'csrf') ?? '', code };
        const posted = await timed(samples, 'code_submit', async () => expect(await send('POST code', 'POST', `${interaction}/code`, { form: codeForm }), 303, 'code'));
        const resumed = expect(await send('GET /auth/… (resume)', 'GET', posted.location!), 303, 'resume');
        return resumed.location!;
      });
    } else {
      callback = await timed(samples, 'password', async () => {
        const posted = expect(await send('POST password', 'POST', `${interaction}/login`, { form }), 303, 'password');
        if (!posted.location?.includes('/auth/')) throw new Error(`the password alone did not finish the login: ${posted.location}`);
        const resumed = expect(await send('GET /auth/… (resume)', 'GET', posted.location), 303, 'resume');
        return resumed.location!;
      });
    }
  } else {
    callback = await timed(samples, 'authorize', async () => {
      const auth = expect(await send('GET /auth', 'GET', `/auth?${query}`), 303, 'authorize');
      const interaction = expect(await send('GET /interaction/… (signs in)', 'GET', auth.location!), 303, 'interaction');
      const resumed = expect(await send('GET /auth/… (resume)', 'GET', interaction.location!), 303, 'resume');
      return resumed.location!;
    });
  }

  if (!callback.startsWith(target.redirectUri)) throw new Error(`not back at the relying party: ${callback}`);
  const params = new URL(callback).searchParams;
  if (params.get('state') !== state || !params.get('code')) throw new Error(`callback without code or with another state: ${callback}`);
  const tokens = await timed(samples, 'exchange', async () => {
    const response = expect(
      await send('POST /token (code)', 'POST', '/token', {
        jar: undefined,
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
  if (samples) {
    for (const [name, ms] of cpu) {
      const entry = samples.requestCpu.get(name) ?? { ms: 0, n: 0 };
      samples.requestCpu.set(name, { ms: entry.ms + ms, n: entry.n + 1 });
    }
  }
  return tokens;
}

/**
 * Exactly `count` successful logins (failures are counted and retried), `concurrency` at a time:
 * the fixed amount of work CPU per login is counted over.
 */
export async function countedLoop(target: LoginTarget, concurrency: number, count: number, samples = new StepSamples()) {
  let started = 0;
  const begun = nowMs();
  const worker = async () => {
    while (started < count && samples.failed <= count) {
      started += 1;
      try {
        await login(target, samples);
        samples.ok += 1;
      } catch (error) {
        samples.failed += 1;
        samples.firstError ??= (error as Error).message;
        started -= 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (nowMs() - begun) / 1000;
  return { perSecond: round(samples.ok / elapsed), elapsed: round(elapsed), samples };
}
