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

const translate = (error: unknown): never => {
  throw isStoreUnavailable(error) ? new StoreUnavailable() : error;
};

export function guarded<T>(action: () => Promise<T>): Promise<T> {
  try {
    return action().catch(translate);
  } catch (error) {
    return translate(error);
  }
}

const ADAPTER_METHODS = ['upsert', 'find', 'findByUserCode', 'findByUid', 'consume', 'destroy', 'revokeByGrantId'] as const;

/** Every method of an adapter, guarded (wrapped once here rather than at every call). */
export function guardedAdapter(adapter: Adapter): Adapter {
  const guardedMethods: Record<string, unknown> = {};
  for (const name of ADAPTER_METHODS) {
    const method = adapter[name] as ((...args: unknown[]) => Promise<unknown>) | undefined;
    if (method) guardedMethods[name] = (...args: unknown[]) => guarded(() => method.apply(adapter, args));
  }
  return guardedMethods as unknown as Adapter;
}
