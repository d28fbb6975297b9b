// Data sources served by a real MongoDB deployment (--mongodb-uri <name>=<uri>): one driver client per
// data source and connection string per thread.
import { createMongoClient } from './connection';
import { MongoDataSource } from './source';

export { checkMongoConnection, describeUri, serverSelectionTimeoutMs } from './connection';
export { MongoDataSource } from './source';
export type { DriverClient } from './source';

const opened = new Map<string, MongoDataSource>();

export function openMongoDataSource(serviceName: string, uri: string): MongoDataSource {
  const key = `${serviceName}\u0000${uri}`;
  let source = opened.get(key);
  if (!source) {
    source = new MongoDataSource(serviceName, uri, () => createMongoClient(serviceName, uri));
    opened.set(key, source);
  }
  return source;
}

export async function closeMongoDataSources(): Promise<void> {
  const all = [...opened.values()];
  opened.clear();
  await Promise.all(all.map((s) => s.close().catch(() => undefined)));
}
