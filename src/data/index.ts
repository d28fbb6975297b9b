// Public face of the data layer (DESIGN "Data"). Used inside function workers by context.services.get(name),
// and by the serve/data commands on the main thread.
import type { AppDefinition } from '../app/types';
import type { ExecutionIdentity } from '../runtime/types';
import { MongoServiceClient } from './client';
import { closeEmbeddedDataSources, EmbeddedDataSource, openEmbeddedDataSource } from './embedded';
import { notSupported } from './errors';
import { closeMongoDataSources, MongoDataSource, openMongoDataSource } from './mongodb';
import { wrapWithRules } from './rules';
import type { DataSource, Document, Namespace } from './types';

export { MongoServiceClient, MongoDatabase, MongoCollection, ClientSession, FindCursor, AggregationCursor, isDataCursor } from './client';
export { checkMongoConnection, describeUri } from './mongodb';
export { EmbeddedDataSource } from './embedded';
export type { ExplainResult } from './embedded';
export { BulkWriteError, DataError } from './errors';
export { RuleDeniedError } from './rules';
export { MAX_QUERY_RESULT } from './types';
export type { DataSource, Document, IndexInfo, IndexSpec, Namespace, SourceSession } from './types';
export { ensureConfiguredIndexes, readConfiguredIndexes } from './configured-indexes';
export { InputError, ProgressBar, readDocuments } from './transfer';
export type { ParsedDocument } from './transfer';
export type { ConfiguredIndex } from './configured-indexes';

export interface ServiceClientOptions {
  app: AppDefinition;
  /** Name given to context.services.get(). */
  serviceName: string;
  /** Atrium's --data-dir (absolute). The embedded store keeps its files below it. */
  dataDir: string;
  /** When set, this data source is served by a real MongoDB deployment through the official driver. */
  mongodbUri?: string;
  /** Who is calling: rules and schemas apply when runAsSystem is false. */
  identity: ExecutionIdentity;
  /** Builds the invocation's §6.2 context.request, for %%request in rules; called only when a rule reads it. */
  request?: () => unknown;
  /** Runs an app function as system, for `%function` in rules and schema `validate`. */
  callFunction?: (name: string, args: unknown[]) => Promise<unknown>;
}

/** Service types that are MongoDB clusters (legacy exports say "mongodb"). */
const CLUSTER_TYPES = new Set(['mongodb-atlas', 'mongodb']);
/** Data Federation sources: known to App Services, not servable here. */
const FEDERATION_TYPES = new Set(['datalake', 'mongodb-datafederation']);

/** How `name` is served: a cluster, a Data Federation source (refused), or not a data source at all. */
export function dataSourceKind(app: AppDefinition, name: string): 'cluster' | 'federation' | undefined {
  const def = app.dataSources.find((d) => d.name === name);
  if (def) {
    if (CLUSTER_TYPES.has(def.type)) return 'cluster';
    if (FEDERATION_TYPES.has(def.type)) return 'federation';
    return undefined;
  }
  return name === 'mongodb-atlas' ? 'cluster' : undefined;
}

/** The names context.services.get() answers with a MongoDB client ("mongodb-atlas" always). */
export function dataSourceNames(app: AppDefinition): string[] {
  const names = new Set(['mongodb-atlas']);
  for (const d of app.dataSources) if (CLUSTER_TYPES.has(d.type)) names.add(d.name);
  return [...names];
}

/** The DataSource for a data source name: embedded by default, the driver when a connection string is set. */
export function openDataSource(serviceName: string, dataDir: string, mongodbUri?: string): DataSource {
  return mongodbUri ? openMongoDataSource(serviceName, mongodbUri) : openEmbeddedDataSource(dataDir, serviceName);
}

/** A DataSource whose every operation fails with a clear error (Data Federation sources). */
function federationClient(name: string): MongoServiceClient {
  const refuse = (): never => {
    throw notSupported(`data source "${name}" is an Atlas Data Federation source; it`);
  };
  const source = new Proxy({} as DataSource, {
    get: (_t, prop) => (prop === 'kind' ? 'mongodb' : prop === 'name' ? name : refuse),
  });
  return new MongoServiceClient(source, true);
}

/**
 * Returns the App Services MongoDB service client (§11.3: db(name).collection(name)...) for a data source,
 * or undefined when the app has no data source of that name ("mongodb-atlas" always exists).
 * Safe to call per invocation: the underlying store/connection is opened once per thread and reused.
 */
export function createServiceClient(opts: ServiceClientOptions): MongoServiceClient | undefined {
  const kind = dataSourceKind(opts.app, opts.serviceName);
  if (kind === undefined) return undefined;
  if (kind === 'federation') return federationClient(opts.serviceName);
  const source = openDataSource(opts.serviceName, opts.dataDir, opts.mongodbUri);
  if (opts.identity.runAsSystem) return new MongoServiceClient(source, true);
  const ruled = wrapWithRules(source, opts.app, opts.serviceName, opts.identity, { getRequest: opts.request, callFunction: opts.callFunction });
  return new MongoServiceClient(ruled, false);
}

/** Every document of a collection in stored (typed) shape, in batches, without the query result limit (export). */
export function scanCollection(source: DataSource, ns: Namespace, batchSize = 1000): AsyncGenerator<Document[]> {
  if (source instanceof EmbeddedDataSource || source instanceof MongoDataSource) return source.scanAll(ns, batchSize);
  throw new Error(`data source "${source.name}" cannot be exported`);
}

/** Closes every store and connection opened by this thread (called on worker shutdown). */
export async function closeDataSources(): Promise<void> {
  await closeEmbeddedDataSources();
  await closeMongoDataSources();
}
