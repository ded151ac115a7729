import type { KeyValueStore } from './key-value-store.js';
import { MemoryStore } from './memory-store.js';
import { RedisStore } from './redis-store.js';

export type { KeyValueStore };
export { MemoryStore, RedisStore };

export function openKeyValueStore(options: { url?: string; keyPrefix?: string }): KeyValueStore {
  return options.url ? new RedisStore(options.url, { keyPrefix: options.keyPrefix }) : new MemoryStore();
}
