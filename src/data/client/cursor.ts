// App Services cursors (§11.3): find() and aggregate() return one synchronously; nothing runs until next() or
// toArray(). sort/skip/limit must come before the first read. next() reads in batches, so a find() over a big
// collection followed by one next() does not load it whole.
import { DataError, queryResultTooLarge } from '../errors';
import { MAX_QUERY_RESULT } from '../types';
import type { DataSource, Document, Namespace, OperationContext } from '../types';
import { toHostDocument } from '../values';
import { limitValue, nonNegativeInt } from './arguments';

/** First batch read by next(); each further batch is twice as big (up to the result limit). */
const FIRST_BATCH = 1000;

function inUse(): DataError {
  return new DataError(2, 'MongoCursorInUseError', 'Cursor is already initialized: sort(), skip() and limit() must be called before next() or toArray()');
}

/** Base of both cursor kinds; `isDataCursor` lets the runtime drain a cursor a function returned. */
export abstract class DataCursor {
  protected started = false;
  protected buffered: Document[] = [];
  protected done = false;
  private batch = FIRST_BATCH;

  /** Fetches up to `n` more documents (all remaining when n is undefined) into `buffered`. */
  protected abstract fill(n: number | undefined): Promise<void>;

  protected assertNotStarted(): void {
    if (this.started) throw inUse();
  }

  /** The next document, or undefined when the cursor is exhausted. */
  async next(): Promise<Document | undefined> {
    await this.refill();
    return this.buffered.shift();
  }

  async hasNext(): Promise<boolean> {
    await this.refill();
    return this.buffered.length > 0;
  }

  private async refill(): Promise<void> {
    this.started = true;
    if (this.buffered.length > 0 || this.done) return;
    await this.fill(this.batch);
    this.batch = Math.min(this.batch * 2, MAX_QUERY_RESULT);
  }

  /** Every remaining document. */
  async toArray(): Promise<Document[]> {
    this.started = true;
    if (!this.done) await this.fill(undefined);
    const out = this.buffered;
    this.buffered = [];
    return out;
  }

  async forEach(fn: (doc: Document) => unknown): Promise<void> {
    for (let doc = await this.next(); doc !== undefined; doc = await this.next()) {
      if ((await fn(doc)) === false) return;
    }
  }

  async close(): Promise<void> {
    this.started = true;
    this.done = true;
    this.buffered = [];
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Document> {
    for (let doc = await this.next(); doc !== undefined; doc = await this.next()) yield doc;
  }
}

export function isDataCursor(v: unknown): v is DataCursor {
  return v instanceof DataCursor;
}

export interface FindSpec {
  filter: Document;
  projection?: Document;
  sort?: Document;
  skip: number;
  limit: number;
}

export class FindCursor extends DataCursor {
  private fetched = 0;

  constructor(
    private readonly source: DataSource,
    private readonly ns: Namespace,
    private readonly spec: FindSpec,
    private readonly ctx: OperationContext,
  ) {
    super();
  }

  sort(spec: unknown): this {
    this.assertNotStarted();
    this.spec.sort = toHostDocument(spec, 'sort');
    return this;
  }

  skip(n: unknown): this {
    this.assertNotStarted();
    this.spec.skip = nonNegativeInt(n, 'skip');
    return this;
  }

  limit(n: unknown): this {
    this.assertNotStarted();
    this.spec.limit = limitValue(n);
    return this;
  }

  /** Driver-style projection on the cursor (App Services passes it as find()'s second argument). */
  project(spec: unknown): this {
    this.assertNotStarted();
    this.spec.projection = toHostDocument(spec, 'projection');
    return this;
  }

  protected async fill(n: number | undefined): Promise<void> {
    const remaining = this.spec.limit > 0 ? this.spec.limit - this.fetched : Infinity;
    const want = Math.min(n ?? Infinity, remaining);
    if (want <= 0) {
      this.done = true;
      return;
    }
    const docs = await this.source.find(
      this.ns,
      this.spec.filter,
      { projection: this.spec.projection, sort: this.spec.sort, skip: this.spec.skip + this.fetched, limit: Number.isFinite(want) ? want : 0 },
      this.ctx,
    );
    this.fetched += docs.length;
    if (this.fetched > MAX_QUERY_RESULT) throw queryResultTooLarge(MAX_QUERY_RESULT);
    for (const d of docs) this.buffered.push(d);
    if (!Number.isFinite(want) || docs.length < want) this.done = true;
  }
}

export class AggregationCursor extends DataCursor {
  private readonly stages: Document[] = [];

  constructor(
    private readonly source: DataSource,
    private readonly ns: Namespace,
    private readonly pipeline: Document[],
    private readonly ctx: OperationContext,
  ) {
    super();
  }

  skip(n: unknown): this {
    this.assertNotStarted();
    this.stages.push({ $skip: nonNegativeInt(n, 'skip') });
    return this;
  }

  limit(n: unknown): this {
    this.assertNotStarted();
    const v = limitValue(n);
    if (v > 0) this.stages.push({ $limit: v });
    return this;
  }

  sort(spec: unknown): this {
    this.assertNotStarted();
    this.stages.push({ $sort: toHostDocument(spec, 'sort') });
    return this;
  }

  protected async fill(): Promise<void> {
    const docs = await this.source.aggregate(this.ns, [...this.pipeline, ...this.stages], this.ctx);
    for (const d of docs) this.buffered.push(d);
    this.done = true;
  }
}
