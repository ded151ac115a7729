import type { RedisTopology } from '../../config/environment.js';
import type { Logger } from '../../log.js';
import type { KeyValueStore } from './key-value-store.js';
import { MemoryStore } from './memory-store.js';
import { RedisStore } from './redis-store.js';

export type { KeyValueStore };
export { MemoryStore, RedisStore };

/** Redis on the configured topology; none configured: the in-process store. */
export function openKeyValueStore(options: { redis?: RedisTopology; keyPrefix?: string; log?: Logger }): KeyValueStore {
  return options.redis ? new RedisStore(options.redis, { keyPrefix: options.keyPrefix, log: options.log }) : new MemoryStore();
}
