// Secondary indexes declared next to the rules of an exported app (an Atrium extension, docs/data.md):
//   data_sources/<service>/<db>/<collection>/indexes.json
//   [ { "key": { "email": 1 }, "unique": true }, { "key": { "owner": 1, "createdAt": -1 }, "name": "recent" } ]
// They are created on the embedded store at start-up (`atrium serve`) and by `atrium data indexes`.
// Real clusters manage their own indexes: these files are not applied to them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AppDefinition } from '../app/types';
import { openEmbeddedDataSource } from './embedded';
import type { IndexSpec } from './types';

export interface ConfiguredIndex {
  service: string;
  db: string;
  collection: string;
  spec: IndexSpec;
  file: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseSpecs(raw: unknown, file: string): IndexSpec[] {
  const list = Array.isArray(raw) ? raw : isObject(raw) && Array.isArray(raw.indexes) ? raw.indexes : null;
  if (!list) throw new Error(`${file}: expected a JSON array of index specifications ({"key": {"field": 1}, "unique"?: true, "name"?: "..."})`);
  return list.map((e, i) => {
    if (!isObject(e) || !isObject(e.key)) throw new Error(`${file}[${i}]: each index needs a "key" object such as {"field": 1}`);
    for (const [f, d] of Object.entries(e.key)) {
      if (d !== 1 && d !== -1) throw new Error(`${file}[${i}]: key "${f}" must be 1 or -1`);
    }
    if (e.name !== undefined && typeof e.name !== 'string') throw new Error(`${file}[${i}]: "name" must be a string`);
    return { key: e.key as Record<string, number>, name: e.name as string | undefined, unique: e.unique === true, sparse: e.sparse === true };
  });
}

/** Every indexes.json under the app's data source folders. Throws on a malformed file (naming it). */
export function readConfiguredIndexes(app: AppDefinition): ConfiguredIndex[] {
  const out: ConfiguredIndex[] = [];
  for (const ds of app.dataSources) {
    if (!ds.definedIn.startsWith('data_sources/')) continue;
    const base = path.join(app.dir, path.dirname(ds.definedIn));
    for (const db of subdirs(base)) {
      for (const coll of subdirs(path.join(base, db))) {
        const file = path.join(base, db, coll, 'indexes.json');
        if (!fs.existsSync(file)) continue;
        const rel = path.relative(app.dir, file);
        let raw: unknown;
        try {
          raw = JSON.parse(fs.readFileSync(file, 'utf8'));
        } catch (err) {
          throw new Error(`${rel}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
        }
        for (const spec of parseSpecs(raw, rel)) out.push({ service: ds.name, db, collection: coll, spec, file: rel });
      }
    }
  }
  return out;
}

function subdirs(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

/**
 * Creates the configured indexes on the embedded stores (data sources without a connection string).
 * Returns one line per problem (e.g. a unique index that existing documents violate); never throws for those.
 */
export async function ensureConfiguredIndexes(app: AppDefinition, dataDir: string, mongodbUris: Record<string, string> = {}): Promise<string[]> {
  const problems: string[] = [];
  let configured: ConfiguredIndex[];
  try {
    configured = readConfiguredIndexes(app);
  } catch (err) {
    return [err instanceof Error ? err.message : String(err)];
  }
  for (const c of configured) {
    if (mongodbUris[c.service]) continue;
    try {
      await openEmbeddedDataSource(dataDir, c.service).createIndex({ db: c.db, collection: c.collection }, c.spec);
    } catch (err) {
      problems.push(`${c.file}: index ${JSON.stringify(c.spec.key)} on ${c.db}.${c.collection} not created: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return problems;
}
