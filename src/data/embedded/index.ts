// The embedded store: one SQLite file per data source under <dataDir>/data/, opened once per thread.
import { EmbeddedDataSource } from './source';
import { dataSourceFile } from './sqlite-file';
import { EmbeddedStore } from './store';

export { EmbeddedDataSource } from './source';
export type { ExplainResult } from './source';
export { dataSourceFile, synchronousMode, BUSY_TIMEOUT_MS } from './sqlite-file';
export { TRANSACTION_LIFETIME_MS } from './session';

const opened = new Map<string, EmbeddedDataSource>();
/** (dataDir, serviceName) -> source: called per invocation, so no path work on the hot path. */
const byName = new Map<string, EmbeddedDataSource>();

/** The embedded data source `serviceName` under `dataDir` (opened on first use in this thread). */
export function openEmbeddedDataSource(dataDir: string, serviceName: string): EmbeddedDataSource {
  const nameKey = `${dataDir}\u0000${serviceName}`;
  const known = byName.get(nameKey);
  if (known) return known;
  const file = dataSourceFile(dataDir, serviceName);
  let source = opened.get(file);
  if (!source) {
    source = new EmbeddedDataSource(serviceName, new EmbeddedStore(file));
    opened.set(file, source);
  }
  byName.set(nameKey, source);
  return source;
}

/** Closes every embedded store this thread opened. */
export async function closeEmbeddedDataSources(): Promise<void> {
  const all = [...opened.values()];
  opened.clear();
  byName.clear();
  for (const s of all) await s.close();
}
