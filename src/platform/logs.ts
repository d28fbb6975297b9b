// Request log records: one per request, kept in a bounded in-memory ring (the error `link` points at them) and
// written as one structured JSON line each. Lines are batched per event-loop turn so logging costs one write per
// batch, not one per request.
import { randomBytes } from 'node:crypto';

export interface LogRecord {
  id: string;
  /** When the request arrived, in ms since the epoch (shown as an ISO `time`: formatting a date per request is not free). */
  at: number;
  type: 'endpoint' | 'auth' | 'function' | 'http';
  method: string;
  route: string;
  status: number;
  ms: number;
  error_code?: string;
  error?: string;
  function?: string;
  user_id?: string;
  remote_ip?: string;
  /** console output of the function (last 25 lines). */
  logs?: string[];
}

/** A record as shown (log lines, /_atrium/logs/<id>): `at` becomes an ISO `time`. */
export type LogRecordView = Omit<LogRecord, 'at'> & { time: string };

export type LogSink = (line: string) => void;

export interface LogStoreOptions {
  /** Failed requests (status >= 400) kept for lookup by id (default 10000). */
  capacity?: number;
  /**
   * Successful requests kept for lookup by id (default 1000). Fewer than failures: a record that stays in memory
   * outlives the young generation, and copying ten thousand of them into the old one cost the HTTP thread several
   * percent of its time in garbage collection. Error bodies link to failures; every request is in the log lines.
   */
  successCapacity?: number;
  /** Where structured lines go; null disables request lines (records are still kept). */
  sink?: LogSink | null;
}

const COUNTER_DIGITS = 12;

export function viewOf(record: LogRecord): LogRecordView {
  const { id, at, ...rest } = record;
  return { id, time: new Date(at).toISOString(), ...rest };
}

export class LogStore {
  /** Slot = id counter % ring length, so a lookup by id needs no map (a map insert and delete per request showed in profiles). */
  private readonly failures: Array<LogRecord | undefined>;
  private readonly successes: Array<LogRecord | undefined>;
  private readonly sink: LogSink | null;
  private pending: string[] = [];
  private flushScheduled = false;
  // Ids are a random per-process prefix plus a counter: unique across restarts and instances, and cheap to make.
  private readonly prefix = randomBytes(6).toString('hex');
  private counter = 0;

  constructor(opts: LogStoreOptions = {}) {
    this.failures = new Array(Math.max(1, opts.capacity ?? 10000));
    this.successes = new Array(Math.max(1, opts.successCapacity ?? 1000));
    this.sink = opts.sink === undefined ? (line) => process.stdout.write(line) : opts.sink;
  }

  newId(): string {
    // 2^48 ids per process before the counter wraps (the id keeps its fixed width).
    this.counter = this.counter >= 0xffffffffffff ? 1 : this.counter + 1;
    return this.prefix + this.counter.toString(16).padStart(COUNTER_DIGITS, '0');
  }

  add(record: LogRecord): void {
    const counter = this.counterOf(record.id);
    if (counter !== null) {
      const ring = record.status >= 400 || record.error_code !== undefined ? this.failures : this.successes;
      ring[counter % ring.length] = record;
    }
    if (!this.sink) return;
    this.pending.push(JSON.stringify(viewOf(record)) + '\n');
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** The record with that id, while it is among the most recent failures or successes. */
  get(id: string): LogRecordView | undefined {
    const counter = this.counterOf(id);
    if (counter === null) return undefined;
    for (const ring of [this.failures, this.successes]) {
      const record = ring[counter % ring.length];
      if (record && record.id === id) return viewOf(record);
    }
    return undefined;
  }

  flush(): void {
    this.flushScheduled = false;
    if (!this.sink || this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    this.sink(text);
  }

  private counterOf(id: string): number | null {
    if (id.length !== this.prefix.length + COUNTER_DIGITS || !id.startsWith(this.prefix)) return null;
    const n = Number.parseInt(id.slice(this.prefix.length), 16);
    return Number.isSafeInteger(n) ? n : null;
  }
}
