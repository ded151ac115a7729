import type { Adapter, AdapterPayload } from 'oidc-provider';
import { Redis } from 'ioredis';

/**
 * A minimal Redis adapter for the bare oidc-provider (after the example in oidc-provider's
 * repository): one JSON value per model instance with its TTL, a hash for consumable models,
 * a list per grant for revocation, and the session uid index. Pipelined with MULTI.
 */
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);
const CONSUMABLE = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

const grantKey = (id: string) => `grant:${id}`;
const sessionUidKey = (uid: string) => `sessionUid:${uid}`;

export function redisAdapterFactory(redis: Redis) {
  return class RedisAdapter implements Adapter {
    constructor(private readonly name: string) {}

    private key(id: string) {
      return `${this.name}:${id}`;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const key = this.key(id);
      const multi = redis.multi();
      if (CONSUMABLE.has(this.name)) multi.hset(key, { payload: JSON.stringify(payload) });
      else multi.set(key, JSON.stringify(payload));
      if (expiresIn) multi.expire(key, expiresIn);
      if (GRANTABLE.has(this.name) && payload.grantId) {
        const gk = grantKey(payload.grantId);
        multi.rpush(gk, key);
        const ttl = await redis.ttl(gk);
        if (expiresIn > ttl) multi.expire(gk, expiresIn);
      }
      if (payload.uid && this.name === 'Session') {
        multi.set(sessionUidKey(payload.uid), id);
        if (expiresIn) multi.expire(sessionUidKey(payload.uid), expiresIn);
      }
      await multi.exec();
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (CONSUMABLE.has(this.name)) {
        const data = await redis.hgetall(this.key(id));
        if (!data || !data.payload) return undefined;
        const { payload, consumed } = data;
        return { ...(JSON.parse(payload) as AdapterPayload), ...(consumed ? { consumed: Number(consumed) } : {}) };
      }
      const data = await redis.get(this.key(id));
      return data ? (JSON.parse(data) as AdapterPayload) : undefined;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const id = await redis.get(sessionUidKey(uid));
      return id ? this.find(id) : undefined;
    }

    async findByUserCode(): Promise<AdapterPayload | undefined> {
      return undefined;
    }

    async consume(id: string): Promise<void> {
      await redis.hset(this.key(id), 'consumed', Math.floor(Date.now() / 1000));
    }

    async destroy(id: string): Promise<void> {
      await redis.del(this.key(id));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      const multi = redis.multi();
      const tokens = await redis.lrange(grantKey(grantId), 0, -1);
      // list members were written without ioredis' keyPrefix, and del() adds it again
      for (const token of tokens) multi.del(token);
      multi.del(grantKey(grantId));
      await multi.exec();
    }
  };
}
