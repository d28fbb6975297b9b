// Request log records: one per request, kept in a bounded in-memory ring (the error `link` points at them) and
// written as one structured JSON line each. Lines are batched per event-loop turn so logging costs one write per
// batch, not one per request.
import { randomBytes } from 'node:crypto';

export interface LogRecord {
  id: string;
  time: string;
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

export type LogSink = (line: string) => void;

export interface LogStoreOptions {
  /** Records kept for lookup by id. */
  capacity?: number;
  /** Where structured lines go; null disables request lines (records are still kept). */
  sink?: LogSink | null;
}

export class LogStore {
  private readonly capacity: number;
  private readonly ring: Array<LogRecord | undefined>;
  private next = 0;
  private readonly byId = new Map<string, LogRecord>();
  private readonly sink: LogSink | null;
  private pending: string[] = [];
  private flushScheduled = false;
  // Ids are a random per-process prefix plus a counter: unique across restarts and instances, and cheap to make.
  private readonly prefix = randomBytes(6).toString('hex');
  private counter = 0;

  constructor(opts: LogStoreOptions = {}) {
    this.capacity = opts.capacity ?? 10000;
    this.ring = new Array(this.capacity);
    this.sink = opts.sink === undefined ? (line) => process.stdout.write(line) : opts.sink;
  }

  newId(): string {
    this.counter = (this.counter + 1) >>> 0;
    return this.prefix + this.counter.toString(16).padStart(12, '0');
  }

  add(record: LogRecord): void {
    const old = this.ring[this.next];
    if (old) this.byId.delete(old.id);
    this.ring[this.next] = record;
    this.next = (this.next + 1) % this.capacity;
    this.byId.set(record.id, record);
    if (!this.sink) return;
    this.pending.push(JSON.stringify(record) + '\n');
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  get(id: string): LogRecord | undefined {
    return this.byId.get(id);
  }

  /** Most recent first. */
  recent(limit = 100): LogRecord[] {
    const out: LogRecord[] = [];
    for (let i = 1; i <= this.capacity && out.length < limit; i++) {
      const r = this.ring[(this.next - i + this.capacity) % this.capacity];
      if (!r) break;
      out.push(r);
    }
    return out;
  }

  flush(): void {
    this.flushScheduled = false;
    if (!this.sink || this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    this.sink(text);
  }
}
