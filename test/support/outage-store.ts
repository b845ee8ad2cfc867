// A real store whose outage a test can switch on and off (rejecting, or hanging), to check fail-closed answers.
import { InterlockError } from '../../src/core/errors.js';
import type { Store } from '../../src/store/types.js';

/**
 * A real store whose outage can be switched on: while `down`, every call but close() rejects with
 * STORE_UNAVAILABLE (as a backend does when its server is unreachable), or never answers when `hang` is set.
 */
export function outageStore(real: Store): { store: Store; down: boolean; hang: boolean } {
  const state = { store: undefined as unknown as Store, down: false, hang: false };
  state.store = new Proxy(real, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof v !== 'function' || key === 'close') return typeof v === 'function' ? v.bind(target) : v;
      return (...args: unknown[]) => {
        if (state.hang) return new Promise(() => {});
        if (state.down) {
          return Promise.reject(
            new InterlockError('STORE_UNAVAILABLE', `injected outage: ${String(key)}: connect ECONNREFUSED`),
          );
        }
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return state;
}
