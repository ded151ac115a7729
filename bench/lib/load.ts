import autocannon, { type Request } from 'autocannon';
import { cpuMs } from './processes.js';
import { round } from './stats.js';

/**
 * One endpoint loaded with autocannon for a fixed number of requests: the server's CPU per
 * successful request (the measure), responses per second and their latency (for information).
 */
export interface LoadResult {
  perSecond: number;
  p50: number;
  p99: number;
  ok: number;
  failed: number;
  /** CPU time the server process spent per successful request (robust on a shared machine) */
  cpuMsPerRequest: number | null;
}

export async function load(options: { url: string; connections: number; amount: number; requests: CheckedRequest[]; pid?: number }): Promise<LoadResult> {
  const wrongBefore = options.requests.reduce((s, r) => s + (r.wrong?.count ?? 0), 0);
  const cpuBefore = options.pid ? cpuMs(options.pid) : null;
  const result = await autocannon({ url: options.url, connections: options.connections, amount: options.amount, requests: options.requests });
  const cpuAfter = options.pid ? cpuMs(options.pid) : null;
  const wrong = options.requests.reduce((s, r) => s + (r.wrong?.count ?? 0), 0) - wrongBefore;
  const ok = result['2xx'] - wrong;
  return {
    perSecond: round(ok / result.duration),
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok,
    failed: result.non2xx + result.errors + result.timeouts + wrong,
    cpuMsPerRequest: cpuBefore != null && cpuAfter != null && ok > 0 ? round((cpuAfter - cpuBefore) / ok, 3) : null,
  };
}

export const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

export function clientCredentialsRequest(clientId: string, secret: string, scope?: string): Request {
  return {
    method: 'POST',
    path: '/token',
    headers: { authorization: basic(clientId, secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: form({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) }),
  };
}

export function userinfoRequest(accessTokens: string[]): Request {
  let next = 0;
  return {
    method: 'GET',
    path: '/me',
    setupRequest: (request) => ({ ...request, headers: { authorization: `Bearer ${accessTokens[next++ % accessTokens.length]}` } }),
  };
}

/** A request whose 200 answers can still be wrong: those are counted in `wrong`. */
export type CheckedRequest = Request & { wrong?: { count: number } };

/** A client asks about one of its own access tokens (RFC 7662), cycling through `accessTokens`. */
export function introspectionRequest(clientId: string, secret: string, accessTokens: string[]): CheckedRequest {
  let next = 0;
  const wrong = { count: 0 };
  return {
    wrong,
    method: 'POST',
    path: '/token/introspection',
    setupRequest: (request) => ({
      ...request,
      headers: { authorization: basic(clientId, secret), 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ token: accessTokens[next++ % accessTokens.length]!, token_type_hint: 'access_token' }),
    }),
    onResponse: (status, body) => {
      // an answer of {active: false} would be a 200 too: only an active token is a success
      if (status === 200 && !(JSON.parse(body) as { active?: boolean }).active) wrong.count += 1;
    },
  };
}

/**
 * Refresh tokens rotate: each answer carries the next one. A shared queue of live refresh tokens:
 * a request takes one, its answer puts the new one back (a failed request loses its token).
 */
export function refreshRequest(clientId: string, secret: string, refreshTokens: string[]): Request {
  const queue = [...refreshTokens];
  return {
    method: 'POST',
    path: '/token',
    setupRequest: (request, context) => {
      const token = queue.shift() ?? 'exhausted';
      context.token = token;
      return {
        ...request,
        headers: { authorization: basic(clientId, secret), 'content-type': 'application/x-www-form-urlencoded' },
        body: form({ grant_type: 'refresh_token', refresh_token: token }),
      };
    },
    onResponse: (status, body) => {
      if (status !== 200) return;
      const next = (JSON.parse(body) as { refresh_token?: string }).refresh_token;
      if (next) queue.push(next);
    },
  };
}
