// Public face of the data layer (DESIGN "Data"). Used inside function workers by context.services.get(name).
// PLACEHOLDER signature agreed between runtime/ and data/; data/ owns and replaces the body.
import type { AppDefinition } from '../app/types';
import type { ExecutionIdentity } from '../runtime/types';

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
}

/**
 * Returns the App Services MongoDB service client (§11.3: db(name).collection(name)...) for a data source,
 * or undefined when the app has no data source of that name ("mongodb-atlas" always exists).
 * Safe to call per invocation: the underlying store/connection is opened once per thread and reused.
 */
export function createServiceClient(opts: ServiceClientOptions): unknown {
  void opts;
  throw new Error('data layer not implemented yet');
}

/** Closes every store and connection opened by this thread (called on worker shutdown). */
export async function closeDataSources(): Promise<void> {
  /* nothing opened yet */
}
