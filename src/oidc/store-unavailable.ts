import { errors, type Adapter } from 'oidc-provider';
import { isStoreUnavailable } from '../stores/unavailable.js';

/**
 * A store outage inside oidc-provider's own routes (/auth, /token, …) becomes a 503
 * `temporarily_unavailable` — a clear page or JSON — instead of its generic 500 "server_error".
 */
export class StoreUnavailable extends errors.OIDCProviderError {
  constructor() {
    super(503, 'temporarily_unavailable');
    Object.assign(this, { expose: true, error_description: 'a backing store is unreachable; try again shortly' });
  }
}

export async function guarded<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (isStoreUnavailable(error)) throw new StoreUnavailable();
    throw error;
  }
}

/** Every method of an adapter, guarded. */
export function guardedAdapter(adapter: Adapter): Adapter {
  return new Proxy(adapter, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (...args: unknown[]) => guarded(() => value.apply(target, args)) : value;
    },
  });
}
