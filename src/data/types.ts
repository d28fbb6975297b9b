// The DataSource seam (DESIGN "Data"): the App Services client (client/) talks only to this interface, which has
// two implementations, embedded/ (SQLite + mingo) and mongodb/ (the official driver). A rules layer (issue 6) can
// wrap a DataSource with the same interface and sit between the client and the store; system identity bypasses it.
//
// Everything crossing this interface is a host-realm value: documents and queries have been normalised by the
// client (values/), and documents coming back are "driver-shaped" (int32/double as JS numbers, Long as a number
// when it fits in 53 bits, ObjectId/Decimal128/Binary/Date as bson/JS objects), as the Node driver returns them.

export type Document = Record<string, unknown>;

export interface Namespace {
  db: string;
  collection: string;
}

/** A session opened by DataSource.startSession(); passed back in OperationContext to run inside its transaction. */
export interface SourceSession {
  /** Opaque identity of the DataSource that created it (a session cannot be used with another source). */
  readonly owner: object;
  /** True between startTransaction() and commit/abort. */
  inTransaction(): boolean;
  startTransaction(): void;
  commitTransaction(): Promise<void>;
  abortTransaction(): Promise<void>;
  /** Starts a transaction, runs fn, commits (or aborts when fn throws) and returns fn's result. */
  withTransaction<T>(fn: () => Promise<T>): Promise<T>;
  endSession(): Promise<void>;
}

export interface OperationContext {
  session?: SourceSession;
}

export interface FindOptions {
  projection?: Document;
  sort?: Document;
  skip?: number;
  /** At most this many documents (0 or absent: no limit other than MAX_QUERY_RESULT). */
  limit?: number;
}

export interface CountOptions {
  skip?: number;
  limit?: number;
}

export interface UpdateOptions {
  upsert?: boolean;
  arrayFilters?: Document[];
}

/** §11.3 result shape; upsertedId only present when an upsert inserted a document. */
export interface UpdateResult {
  matchedCount: number;
  modifiedCount: number;
  upsertedId?: unknown;
}

export type FindAndModifyAction =
  | { kind: 'update'; update: Document | Document[]; arrayFilters?: Document[] }
  | { kind: 'replace'; replacement: Document }
  | { kind: 'delete' };

export interface FindAndModifyOptions {
  sort?: Document;
  projection?: Document;
  upsert?: boolean;
  /** Return the document after the change (App Services returnNewDocument). */
  returnNew?: boolean;
}

/** One bulkWrite operation, as the Node driver spells them. */
export type BulkOperation =
  | { insertOne: { document: Document } }
  | { updateOne: { filter: Document; update: Document | Document[]; upsert?: boolean; arrayFilters?: Document[] } }
  | { updateMany: { filter: Document; update: Document | Document[]; upsert?: boolean; arrayFilters?: Document[] } }
  | { replaceOne: { filter: Document; replacement: Document; upsert?: boolean } }
  | { deleteOne: { filter: Document } }
  | { deleteMany: { filter: Document } };

export interface IndexSpec {
  /** Field -> 1 (ascending) or -1 (descending), in order. */
  key: Record<string, number>;
  name?: string;
  unique?: boolean;
  sparse?: boolean;
}

export interface IndexInfo {
  name: string;
  key: Record<string, number>;
  unique: boolean;
  sparse: boolean;
}

export interface DataSource {
  readonly kind: 'embedded' | 'mongodb';
  /** The data source (service) name, e.g. "mongodb-atlas". */
  readonly name: string;

  find(ns: Namespace, filter: Document, options: FindOptions, ctx: OperationContext): Promise<Document[]>;
  count(ns: Namespace, filter: Document, options: CountOptions, ctx: OperationContext): Promise<number>;
  distinct(ns: Namespace, field: string, filter: Document, ctx: OperationContext): Promise<unknown[]>;
  aggregate(ns: Namespace, pipeline: Document[], ctx: OperationContext): Promise<Document[]>;

  /** Inserts in order; returns the _id of every inserted document (generated when missing). */
  insertMany(ns: Namespace, docs: Document[], options: { ordered: boolean }, ctx: OperationContext): Promise<unknown[]>;
  /** `update` is an operator document, an aggregation pipeline, or (updateOne only) a replacement document. */
  updateOne(ns: Namespace, filter: Document, update: Document | Document[], options: UpdateOptions, ctx: OperationContext): Promise<UpdateResult>;
  updateMany(ns: Namespace, filter: Document, update: Document | Document[], options: UpdateOptions, ctx: OperationContext): Promise<UpdateResult>;
  replaceOne(ns: Namespace, filter: Document, replacement: Document, options: { upsert?: boolean }, ctx: OperationContext): Promise<UpdateResult>;
  deleteOne(ns: Namespace, filter: Document, ctx: OperationContext): Promise<number>;
  deleteMany(ns: Namespace, filter: Document, ctx: OperationContext): Promise<number>;
  findOneAndModify(ns: Namespace, filter: Document, action: FindAndModifyAction, options: FindAndModifyOptions, ctx: OperationContext): Promise<Document | null>;
  bulkWrite(ns: Namespace, operations: BulkOperation[], options: { ordered: boolean }, ctx: OperationContext): Promise<void>;

  listCollectionNames(db: string, ctx: OperationContext): Promise<string[]>;
  listDatabaseNames(): Promise<string[]>;

  createIndex(ns: Namespace, spec: IndexSpec): Promise<string>;
  listIndexes(ns: Namespace): Promise<IndexInfo[]>;
  dropIndex(ns: Namespace, name: string): Promise<void>;

  startSession(): SourceSession;
  /** Releases connections/handles held by this thread. */
  close(): Promise<void>;
}

/** App Services' limit on the documents one query may return (§13). */
export const MAX_QUERY_RESULT = 50_000;
