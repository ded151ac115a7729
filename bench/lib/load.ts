import autocannon, { type Request } from 'autocannon';
import { cpuMs } from './processes.js';
import { round } from './stats.js';

/** One endpoint loaded with autocannon: successful responses per second and their latency. */
export interface LoadResult {
  perSecond: number;
  p50: number;
  p99: number;
  ok: number;
  failed: number;
  /** CPU time the server process spent per successful request (robust on a shared machine) */
  cpuMsPerRequest: number | null;
}

export async function load(options: { url: string; connections: number; seconds: number; requests: Request[]; pid?: number }): Promise<LoadResult> {
  const cpuBefore = options.pid ? cpuMs(options.pid) : null;
  const result = await autocannon({ url: options.url, connections: options.connections, duration: options.seconds, requests: options.requests });
  const cpuAfter = options.pid ? cpuMs(options.pid) : null;
  const ok = result['2xx'];
  return {
    perSecond: round(ok / result.duration),
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok,
    failed: result.non2xx + result.errors + result.timeouts,
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
