// At most one session transaction per store per thread holds SQLite's write lock at a time, across awaits.
// better-sqlite3 waits for a lock synchronously, so a write from the same thread that met that lock would block
// the very thread that has to finish the transaction: such writes wait here (asynchronously) instead.
import { AsyncLocalStorage } from 'node:async_hooks';
import { DataError } from '../errors';

export class TxnGate {
  private holder: object | null = null;
  private readonly waiters: Array<() => void> = [];
  /** The transactions whose callbacks (withTransaction) enclose the current async context, outermost first. */
  readonly current = new AsyncLocalStorage<readonly object[]>();

  /** Runs fn as the callback of `owner`'s transaction. */
  runInside<T>(owner: object, fn: () => T): T {
    return this.current.run([...(this.current.getStore() ?? []), owner], fn);
  }

  private insideHolder(): boolean {
    return this.holder !== null && (this.current.getStore() ?? []).includes(this.holder);
  }

  get busy(): boolean {
    return this.holder !== null;
  }

  isHeldBy(owner: object): boolean {
    return this.holder === owner;
  }

  /** Waits for the lock (at most timeoutMs) and takes it for `owner`. */
  async acquire(owner: object, timeoutMs: number): Promise<void> {
    if (this.insideHolder()) {
      throw new DataError(263, 'OperationNotSupportedInTransaction', 'cannot start a transaction inside the callback of another transaction of the same data source');
    }
    const deadline = Date.now() + timeoutMs;
    while (this.holder !== null) {
      const left = deadline - Date.now();
      if (left <= 0) throw new DataError(112, 'WriteConflict', `a transaction waited more than ${timeoutMs / 1000} s for another transaction started in the same thread`);
      await this.wait(left);
    }
    this.holder = owner;
  }

  private wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  release(owner: object): void {
    if (this.holder !== owner) return;
    this.holder = null;
    const next = this.waiters.splice(0);
    for (const w of next) w();
  }

  /**
   * Waits until no transaction of this thread holds the lock. A write issued from inside the callback of the
   * transaction that holds it would wait for itself: refused with a clear error instead.
   */
  async whenFree(timeoutMs: number): Promise<void> {
    if (this.holder === null) return;
    if (this.insideHolder()) {
      throw new DataError(
        263,
        'OperationNotSupportedInTransaction',
        'this write was issued inside session.withTransaction() without { session }: the transaction holds the write lock until it ends, so pass { session } in the options of every operation inside the transaction',
      );
    }
    const deadline = Date.now() + timeoutMs;
    while (this.holder !== null) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new DataError(112, 'WriteConflict', `a write waited more than ${timeoutMs / 1000} s for a transaction started in the same thread (an operation inside a transaction without { session }?)`);
      }
      await this.wait(left);
    }
  }
}
