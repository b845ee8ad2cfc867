// Watcher leadership across replicas: one lease in the store, renewed on a timer. Only the holder acts on windows,
// and every window write carries the lease's epoch as a fence, so a replica that lost the lease (paused, cut off)
// cannot write even while it still believes it leads.
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../observability/index.js';
import type { Lease, LeaseFence, Store } from '../../store/index.js';

export const WATCHER_LEASE = 'watcher';
export const DEFAULT_LEASE_MS = 15_000;
/** A follower tries for the lease this long after the holder's expiry (clock granularity). */
const EXPIRY_MARGIN_MS = 5;

export interface LeadershipOptions {
  store: Store;
  clock: Clock;
  log: Logger;
  holder: string;
  leaseMs: number;
  /** Became leader (fence = the new epoch), or stopped being one (undefined). */
  onChange: (fence: LeaseFence | undefined, previous: Lease | undefined) => void;
}

export class Leadership {
  private timer: TimerHandle | undefined;
  private current: Lease | undefined;
  private stopped = false;
  private ticking: Promise<void> | undefined;
  /** When another holder's lease runs out (store clock), while this replica follows. */
  private othersExpireAt: number | undefined;

  constructor(private readonly o: LeadershipOptions) {}

  /** The fence of this replica's tenure, while it holds an unexpired lease (by this host's reckoning). */
  get fence(): LeaseFence | undefined {
    const l = this.current;
    if (!l) return undefined;
    // Stop acting a little before the store would hand the lease on: renewals are due long before that.
    if (this.storeNow() >= l.expiresAt - Math.min(1000, this.o.leaseMs / 5)) return undefined;
    return { name: l.name, epoch: l.epoch };
  }

  get lease(): Lease | undefined {
    return this.current;
  }

  async start(): Promise<void> {
    await this.tick();
  }

  /** Tries to take or renew the lease now (also called on a timer, every leaseMs / 3). */
  tick(): Promise<void> {
    if (this.ticking) return this.ticking;
    this.ticking = this.renew().finally(() => {
      this.ticking = undefined;
      if (!this.stopped) {
        this.o.clock.clearTimeout(this.timer);
        this.timer = this.o.clock.setTimeout(() => void this.tick(), this.nextTickMs());
        (this.timer as unknown as { unref?: () => void }).unref?.();
      }
    });
    return this.ticking;
  }

  /**
   * Renew every leaseMs / 3; a follower also tries again the moment the holder's lease runs out, so a replica that
   * dies hands over within the lease time (not the lease time plus up to one renewal interval).
   */
  private nextTickMs(): number {
    const every = Math.floor(this.o.leaseMs / 3);
    const expiry = this.othersExpireAt;
    const untilExpiry = expiry === undefined ? every : expiry - this.storeNow() + EXPIRY_MARGIN_MS;
    return Math.max(50, Math.min(every, untilExpiry));
  }

  private storeNow(): number {
    return (this.o.store.clock ?? this.o.clock).now();
  }

  private async renew(): Promise<void> {
    if (this.stopped) return;
    const before = this.current;
    const previous = before ? undefined : await this.o.store.getLease(WATCHER_LEASE).catch(() => undefined);
    try {
      const r = await this.o.store.acquireLease(WATCHER_LEASE, this.o.holder, this.o.leaseMs, this.o.clock.now());
      if (this.stopped) return;
      this.othersExpireAt = r.ok ? undefined : r.lease.expiresAt;
      if (r.ok) {
        this.current = r.lease;
        if (!before || before.epoch !== r.lease.epoch) {
          this.o.log.info(`watcher: leading (lease epoch ${r.lease.epoch})`);
          // A new tenure after our own lease ran out (a stall, a clock step) says when we last renewed, as a
          // handover does: a short break is not downtime for the catch-up policy.
          this.o.onChange({ name: r.lease.name, epoch: r.lease.epoch }, before ?? previous);
        }
      } else {
        this.current = undefined;
        if (before) {
          this.o.log.warn(`watcher: lost the lease to ${r.lease.holder} (epoch ${r.lease.epoch})`);
          this.o.onChange(undefined, undefined);
        }
      }
    } catch (err) {
      // The store is unreachable: keep the lease only as long as it is valid; `fence` says when that ends.
      this.othersExpireAt = undefined;
      this.o.log.warn(`watcher: could not renew the lease: ${(err as Error).message}`);
      if (before && this.fence === undefined) {
        this.current = undefined;
        this.o.onChange(undefined, undefined);
      }
    }
  }

  /** Stops renewing and gives the lease up (another replica may take it at once). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.o.clock.clearTimeout(this.timer);
    await this.ticking?.catch(() => undefined);
    const l = this.current;
    this.current = undefined;
    if (l) await this.o.store.releaseLease(l.name, this.o.holder, l.epoch).catch(() => false);
  }
}
