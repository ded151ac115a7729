import { redisProblem } from './kv/redis-errors.js';

/**
 * Recognises "the database or Redis cannot be reached" among errors, so the caller answers 503
 * (and never treats a missing answer as "no second factor needed": fail closed).
 */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN']);

export function isStoreUnavailable(error: unknown): boolean {
  // no `instanceof Error`: errors from Node's core may come from another realm (test runners' VMs)
  if (typeof error !== 'object' || error === null) return false;
  const { code, name, message = '' } = error as { code?: string; name?: string; message?: string };
  if (code && NETWORK_CODES.has(code)) return true;
  // Postgres: admin shutdown, cannot connect now, too many connections
  if (code && ['57P01', '57P03', '53300', '08006', '08001', '08003', '08004'].includes(code)) return true;
  if (name === 'MaxRetriesPerRequestError' || name === 'KnexTimeoutError') return true;
  // Redis is up but cannot serve: READONLY after a failover, LOADING, OOM, CLUSTERDOWN, MOVED to REDIS_URL, …
  if (redisProblem(error)) return true;
  return /Connection is closed|Stream isn't writeable|enableOfflineQueue|Timeout acquiring a connection|Connection terminated|ECONNREFUSED/i.test(String(message));
}
