// The watcher's storage shapes (a leaf: the port in types.ts and the shared rules in rules.ts both read them).
import type { WindowRecord, WindowState } from '../engine/window.js';

export interface WindowListOptions {
  /** At most this many (newest first). */
  limit?: number;
  /** Only windows that opened strictly before this epoch ms. */
  before?: number;
  /** Only windows in this state. */
  state?: WindowState;
  /** Only windows of this schedule. */
  schedule?: string;
}

/** A write under a lease: refused unless the lease `name` still has `epoch`. */
export interface LeaseFence {
  name: string;
  epoch: number;
}

export type WindowWriteResult =
  | { ok: true }
  /** Lost a race (or the key exists, for createWindow): `current` is the stored record. */
  | { ok: false; current?: WindowRecord; fenced?: undefined }
  /** The fence's lease has a newer epoch: this writer no longer leads. */
  | { ok: false; fenced: true; current?: WindowRecord };

export interface Lease {
  name: string;
  holder: string;
  /** Grows by one on every change of holder (including after an expiry). */
  epoch: number;
  /** Epoch ms on the store's clock. */
  expiresAt: number;
}

export type LeaseResult = { ok: true; lease: Lease } | { ok: false; lease: Lease };
