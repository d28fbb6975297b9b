// Sessions and transactions on the embedded store. A transaction is a SQLite transaction (BEGIN IMMEDIATE) on a
// connection of its own, opened at the first operation that passes { session }, and held across the awaits of
// the user's callback until commit or abort. Other code in this thread keeps reading committed data on the main
// connection; its writes wait for the transaction (gate.ts). A transaction left open is aborted after 60 s
// (MongoDB's transactionLifetimeLimitSeconds default), so a forgotten one cannot block writers for good.
import { DataError } from '../errors';
import type { SourceSession } from '../types';
import type { Conn, EmbeddedStore } from './store';
import { BUSY_TIMEOUT_MS } from './sqlite-file';
import { storeError } from './store';

export const TRANSACTION_LIFETIME_MS = 60_000;

type State = 'none' | 'starting' | 'active' | 'committed' | 'aborted';

function noTransaction(message: string): DataError {
  return new DataError(251, 'NoSuchTransaction', message);
}

export class EmbeddedSession implements SourceSession {
  private state: State = 'none';
  private conn: Conn | null = null;
  private ended = false;
  private timer: NodeJS.Timeout | null = null;
  private expired = false;

  constructor(readonly owner: EmbeddedStore) {}

  inTransaction(): boolean {
    return this.state === 'starting' || this.state === 'active';
  }

  startTransaction(): void {
    if (this.ended) throw new DataError(206, 'NoSuchSession', 'Cannot use a session that has ended');
    if (this.inTransaction()) throw new DataError(256, 'TransactionInProgress', 'Transaction already in progress on this session');
    this.state = 'starting';
    this.expired = false;
  }

  /** The transaction's connection (starting the SQLite transaction on first use), or null outside a transaction. */
  async connection(): Promise<Conn | null> {
    if (this.ended) throw new DataError(206, 'NoSuchSession', 'Cannot use a session that has ended');
    if (this.expired) throw noTransaction('Transaction was aborted: it exceeded the 60 s transaction lifetime limit');
    if (this.state === 'active') return this.conn;
    if (this.state !== 'starting') return null;
    await this.owner.gate.acquire(this, BUSY_TIMEOUT_MS);
    if (this.state !== 'starting') {
      // Aborted while waiting for the lock.
      this.owner.gate.release(this);
      throw noTransaction('Transaction was aborted');
    }
    const conn = this.owner.takeConnection();
    try {
      conn.db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      this.owner.returnConnection(conn);
      this.owner.gate.release(this);
      this.state = 'aborted';
      throw storeError(err, this.owner.file);
    }
    this.conn = conn;
    this.state = 'active';
    this.timer = setTimeout(() => {
      this.expired = true;
      this.finish('ROLLBACK');
      this.state = 'aborted';
    }, TRANSACTION_LIFETIME_MS);
    this.timer.unref();
    return conn;
  }

  async commitTransaction(): Promise<void> {
    if (this.state === 'starting') {
      this.state = 'committed';
      return;
    }
    if (this.state !== 'active') {
      if (this.expired) throw noTransaction('Transaction was aborted: it exceeded the 60 s transaction lifetime limit');
      throw noTransaction('No transaction started');
    }
    try {
      this.finish('COMMIT');
      this.state = 'committed';
    } catch (err) {
      this.finish('ROLLBACK');
      this.state = 'aborted';
      throw storeError(err, this.owner.file);
    }
  }

  async abortTransaction(): Promise<void> {
    if (this.state === 'starting') {
      this.state = 'aborted';
      return;
    }
    if (this.state !== 'active') {
      if (this.state === 'committed') throw new DataError(256, 'TransactionCommitted', 'Cannot call abortTransaction after calling commitTransaction');
      if (this.state === 'aborted') return;
      throw noTransaction('No transaction started');
    }
    this.finish('ROLLBACK');
    this.state = 'aborted';
  }

  async withTransaction<T>(fn: () => Promise<T>): Promise<T> {
    this.startTransaction();
    let result: T;
    try {
      result = await this.owner.gate.runInside(this, fn);
    } catch (err) {
      if (this.inTransaction()) await this.abortTransaction();
      throw err;
    }
    if (this.inTransaction()) await this.commitTransaction();
    return result;
  }

  async endSession(): Promise<void> {
    if (this.inTransaction()) await this.abortTransaction();
    this.ended = true;
  }

  /** Ends the SQLite transaction and gives the connection and the thread's write gate back. */
  private finish(sql: 'COMMIT' | 'ROLLBACK'): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const conn = this.conn;
    if (!conn) return;
    try {
      if (conn.db.inTransaction) conn.db.exec(sql);
    } finally {
      if (sql === 'ROLLBACK') this.owner.catalog.invalidate();
      if (!conn.db.inTransaction) {
        this.conn = null;
        this.owner.returnConnection(conn);
        this.owner.gate.release(this);
      }
    }
  }
}
