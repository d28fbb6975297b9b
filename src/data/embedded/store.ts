// One store file as seen from one thread: the main connection (all operations outside transactions), spare
// connections for session transactions, the catalog cache, and the gate that keeps this thread's own
// non-transaction writes from running into the write lock one of its transactions holds.
import type { Transaction } from 'better-sqlite3';
import { DataError } from '../errors';
import { Catalog } from './catalog';
import { TxnGate } from './gate';
import { BUSY_TIMEOUT_MS, openSqliteFile } from './sqlite-file';
import type { Db } from './sqlite-file';
import { Statements } from './statements';

export interface Conn {
  db: Db;
  st: Statements;
  /** One transaction wrapper per connection (better-sqlite3 builds four functions per db.transaction() call). */
  txn: Transaction<(fn: () => unknown) => unknown>;
}

function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/** SQLite failures as MongoDB-style errors (other errors pass through). */
export function storeError(err: unknown, file: string): unknown {
  const code = sqliteCode(err);
  if (!code) return err;
  const msg = err instanceof Error ? err.message : String(err);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new DataError(112, 'WriteConflict', `the embedded store ${file} stayed locked by another writer for more than ${BUSY_TIMEOUT_MS / 1000} s (a long transaction in another thread or process?): ${msg}`);
  }
  if (code === 'SQLITE_FULL') return new DataError(14031, 'OutOfDiskSpace', `the disk holding ${file} is full`);
  return new DataError(8000, 'AtriumStoreError', `embedded store ${file}: ${msg} (${code})`);
}

export class EmbeddedStore {
  readonly catalog = new Catalog();
  readonly gate = new TxnGate();
  readonly main: Conn;
  private readonly spare: Conn[] = [];
  private closed = false;

  constructor(readonly file: string) {
    this.main = this.connect();
  }

  private connect(): Conn {
    const db = openSqliteFile(this.file);
    const st = new Statements(db);
    const txn = db.transaction((fn: () => unknown) => {
      this.catalog.sync(st);
      return fn();
    });
    return { db, st, txn };
  }

  /**
   * Runs a read. No transaction of its own (it would cost a BEGIN/COMMIT per call) and no catalog check: reads
   * detect stale metadata themselves (see ReadProbe) and call syncCatalog(). Inside a session's transaction it
   * simply runs on that transaction's snapshot.
   */
  read<T>(conn: Conn, fn: () => T): T {
    this.assertOpen();
    try {
      return fn();
    } catch (err) {
      throw storeError(err, this.file);
    }
  }

  /** Reloads the catalog if another connection changed it; true when it changed. */
  syncCatalog(conn: Conn): boolean {
    const before = this.catalog.currentVersion;
    this.catalog.sync(conn.st);
    return this.catalog.currentVersion !== before;
  }

  /** Runs fn in a write transaction (BEGIN IMMEDIATE, or a savepoint inside a session's transaction). */
  write<T>(conn: Conn, fn: () => T): T {
    this.assertOpen();
    try {
      return conn.txn.immediate(fn) as T;
    } catch (err) {
      // The transaction rolled back: cached metadata may describe uncommitted changes.
      this.catalog.invalidate();
      throw storeError(err, this.file);
    }
  }

  /** A connection for one session transaction (reused afterwards). */
  takeConnection(): Conn {
    this.assertOpen();
    return this.spare.pop() ?? this.connect();
  }

  returnConnection(c: Conn): void {
    if (this.closed || this.spare.length >= 2) c.db.close();
    else this.spare.push(c);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.spare.splice(0)) c.db.close();
    this.main.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new DataError(8000, 'AtriumStoreError', `the embedded store ${this.file} is closed`);
  }
}
