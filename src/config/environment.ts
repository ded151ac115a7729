import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors.js';

/**
 * Configuration comes from the environment only (docs/architecture.md § Contracts) and is
 * validated once, at start. Every default is documented here and in the README's table.
 */
export interface Config {
  production: boolean;
  port: number;
  /** The public base URL; every token's `iss`. Default http://localhost:$PORT. */
  issuer: string;
  /** Unset: knex on PGlite under DATA_DIR (embedded, one process). */
  databaseUrl?: string;
  /** Unset: an in-process key-value store (embedded, one process). */
  redis?: RedisTopology;
  dataDir: string;
  /** `kid:base64` pairs; the first is used to encrypt, all decrypt. Unset: generated into DATA_DIR (not in production). */
  encryptionKeys?: EncryptionKey[];
  /** Cookie signing keys, newest first. Unset: generated into DATA_DIR (not in production). */
  cookieKeys?: string[];
  /** Unset: mails go to the log and DATA_DIR/outbox/. */
  smtpUrl?: string;
  mailFrom: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Trust X-Forwarded-* from a TLS-terminating proxy. */
  trustProxy: boolean;
  /** After SIGTERM, how long /readyz answers 503 while requests are still served (a load balancer's notice). */
  shutdownDrainSeconds: number;
}

/** One Redis server (REDIS_URL), a Redis Cluster (REDIS_CLUSTER_NODES) or a Sentinel set (REDIS_SENTINELS). */
export type RedisTopology =
  | { kind: 'server'; url: string }
  | { kind: 'cluster'; nodes: HostPort[]; password?: string; tls: boolean }
  | { kind: 'sentinel'; sentinels: HostPort[]; masterName: string; password?: string; sentinelPassword?: string; tls: boolean };

export interface HostPort {
  host: string;
  port: number;
}

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

const boolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'use true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const urlWithProtocols = (protocols: string[]) =>
  z.string().refine((value) => {
    try {
      return protocols.includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);

const encryptionKeys = z.string().transform((value, ctx) => {
  const keys: EncryptionKey[] = [];
  for (const entry of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const match = /^([A-Za-z0-9_-]{1,32}):([A-Za-z0-9+/_-]+={0,2})$/.exec(entry);
    const key = match ? Buffer.from(match[2]!, 'base64') : undefined;
    if (!match || key?.length !== 32) {
      ctx.addIssue({ code: 'custom', message: 'each entry must be kid:base64 of 32 random bytes (openssl rand -base64 32)' });
      return z.NEVER;
    }
    if (keys.some((k) => k.id === match[1])) {
      ctx.addIssue({ code: 'custom', message: `key id "${match[1]}" appears twice` });
      return z.NEVER;
    }
    keys.push({ id: match[1]!, key });
  }
  if (keys.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'no key given' });
    return z.NEVER;
  }
  return keys;
});

const cookieKeys = z.string().transform((value, ctx) => {
  const keys = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (keys.length === 0 || keys.some((k) => k.length < 32)) {
    ctx.addIssue({ code: 'custom', message: 'each key must be at least 32 characters (openssl rand -base64 32)' });
    return z.NEVER;
  }
  return keys;
});

/** `host:port[,host:port…]`; an IPv6 address in brackets (`[::1]:7000`). */
const hostPortList = z.string().transform((value, ctx) => {
  const entries = value.split(',').map((s) => s.trim()).filter(Boolean);
  const list: HostPort[] = [];
  for (const entry of entries) {
    const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/.exec(entry);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535) {
      ctx.addIssue({ code: 'custom', message: `"${entry}" is not host:port (comma-separated, e.g. redis-1:6379,redis-2:6379)` });
      return z.NEVER;
    }
    const host = match[1]!.replace(/^\[(.*)\]$/, '$1');
    if (list.some((n) => n.host === host && n.port === port)) {
      ctx.addIssue({ code: 'custom', message: `"${entry}" appears twice` });
      return z.NEVER;
    }
    list.push({ host, port });
  }
  if (list.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'no host:port given' });
    return z.NEVER;
  }
  return list;
});

const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

const schema = z.object({
  NODE_ENV: optional(z.string()),
  PORT: optional(
    z
      .string()
      .regex(/^\d{1,5}$/, 'must be a port number (0-65535)')
      .transform(Number)
      .refine((n) => n <= 65535, 'must be a port number (0-65535)'),
  ),
  ISSUER: optional(
    urlWithProtocols(['http:', 'https:']).refine((v) => {
      // the raw string: URL() reports a bare "?" or "#" as empty, yet an issuer may carry neither
      if (/[?#]/.test(v)) return false;
      try {
        const u = new URL(v);
        return !u.username && !u.password;
      } catch {
        return false;
      }
    }, 'must not have a query, fragment or credentials'),
  ),
  DATABASE_URL: optional(urlWithProtocols(['postgres:', 'postgresql:'])),
  REDIS_URL: optional(urlWithProtocols(['redis:', 'rediss:'])),
  REDIS_CLUSTER_NODES: optional(hostPortList),
  REDIS_SENTINELS: optional(hostPortList),
  REDIS_SENTINEL_MASTER: optional(z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'must be the master\'s name as the sentinels know it (letters, digits, . _ -)')),
  REDIS_PASSWORD: optional(z.string().max(512)),
  REDIS_SENTINEL_PASSWORD: optional(z.string().max(512)),
  REDIS_TLS: optional(boolean),
  DATA_DIR: optional(z.string()),
  ENCRYPTION_KEYS: optional(encryptionKeys),
  COOKIE_KEYS: optional(cookieKeys),
  SMTP_URL: optional(urlWithProtocols(['smtp:', 'smtps:'])),
  MAIL_FROM: optional(z.string().min(3).max(200)),
  LOG_LEVEL: optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])),
  TRUST_PROXY: optional(boolean),
  SHUTDOWN_DRAIN_SECONDS: optional(z.string().regex(/^\d{1,3}$/, 'must be a number of seconds (0-999)').transform(Number)),
});

const TOPOLOGY_VARIABLES = ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const;

/** Exactly one topology, or none (the in-process store); the options that go with it and no others. */
function redisTopology(e: z.infer<typeof schema>): RedisTopology | undefined {
  const named = TOPOLOGY_VARIABLES.filter((v) => e[v] !== undefined);
  if (named.length > 1) throw new ConfigError(named.join(', '), 'set together; name one Redis topology only (REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS)');
  const only = (variable: 'REDIS_SENTINEL_MASTER' | 'REDIS_PASSWORD' | 'REDIS_SENTINEL_PASSWORD' | 'REDIS_TLS', allowed: string[], hint: string) => {
    // REDIS_TLS=false asks for nothing, so it may stand anywhere
    if (e[variable] !== undefined && e[variable] !== false && !allowed.includes(named[0] ?? '')) throw new ConfigError(variable, hint);
  };
  only('REDIS_SENTINEL_MASTER', ['REDIS_SENTINELS'], 'goes with REDIS_SENTINELS only');
  only('REDIS_SENTINEL_PASSWORD', ['REDIS_SENTINELS'], 'goes with REDIS_SENTINELS only');
  only('REDIS_PASSWORD', ['REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'], 'goes with REDIS_CLUSTER_NODES or REDIS_SENTINELS (with REDIS_URL put it in the URL: redis://:password@host)');
  only('REDIS_TLS', ['REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'], 'goes with REDIS_CLUSTER_NODES or REDIS_SENTINELS (with REDIS_URL use rediss://)');
  const tls = e.REDIS_TLS ?? false;
  if (e.REDIS_URL) return { kind: 'server', url: e.REDIS_URL };
  if (e.REDIS_CLUSTER_NODES) return { kind: 'cluster', nodes: e.REDIS_CLUSTER_NODES, password: e.REDIS_PASSWORD, tls };
  if (e.REDIS_SENTINELS) {
    if (!e.REDIS_SENTINEL_MASTER) throw new ConfigError('REDIS_SENTINEL_MASTER', 'must be set with REDIS_SENTINELS (the master\'s name in the sentinels\' configuration, e.g. mymaster)');
    return { kind: 'sentinel', sentinels: e.REDIS_SENTINELS, masterName: e.REDIS_SENTINEL_MASTER, password: e.REDIS_PASSWORD, sentinelPassword: e.REDIS_SENTINEL_PASSWORD, tls };
  }
  return undefined;
}

/** Reads and validates the environment; the first bad variable is thrown as a ConfigError naming it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(String(issue.path[0]), issue.message);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const redis = redisTopology(e);
  const port = e.PORT ?? 3000;
  const issuer = (e.ISSUER ?? `http://localhost:${port}`).replace(/\/+$/, '');
  if (production) {
    if (!e.ISSUER) throw new ConfigError('ISSUER', 'must be set in production (the public https URL)');
    if (new URL(issuer).protocol !== 'https:') throw new ConfigError('ISSUER', 'must use https in production');
    if (!e.ENCRYPTION_KEYS) throw new ConfigError('ENCRYPTION_KEYS', 'must be set in production (kid:base64 of 32 random bytes)');
    if (!e.COOKIE_KEYS) throw new ConfigError('COOKIE_KEYS', 'must be set in production (at least 32 random characters each)');
  }
  return {
    production,
    port,
    issuer,
    databaseUrl: e.DATABASE_URL,
    redis,
    dataDir: path.resolve(e.DATA_DIR ?? './data'),
    encryptionKeys: e.ENCRYPTION_KEYS,
    cookieKeys: e.COOKIE_KEYS,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM ?? `Sleutel <no-reply@${new URL(issuer).hostname}>`,
    logLevel: e.LOG_LEVEL ?? 'info',
    trustProxy: e.TRUST_PROXY ?? false,
    shutdownDrainSeconds: e.SHUTDOWN_DRAIN_SECONDS ?? (production ? 5 : 0),
  };
}
