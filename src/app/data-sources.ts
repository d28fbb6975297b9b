// Data sources (§11.3, §12.1): `data_sources/<dir>/config.json` with `default_rule.json` and
// `<db>/<coll>/{rules.json,schema.json}`, and the legacy `services/<svc>/` form (type mongodb-atlas) with
// `rules/*.json`. Rules and schemas are kept raw; data/rules interprets them.
import type { AppFiles } from './app-files';
import { FieldReader, isObject } from './fields';
import type { ProblemList } from './problems';
import type { TemplateExpander } from './templates';
import type { DataSourceDef } from './types';

/** Service types that are MongoDB data sources (the rest of `services/` are legacy third-party services). */
export const DATA_SOURCE_TYPES = ['mongodb-atlas', 'mongodb', 'mongodb-datafederation', 'datalake'];

type Collections = DataSourceDef['collections'];

export interface LoadedDataSources {
  dataSources: DataSourceDef[];
  /** Legacy configs refer to services by id (`mongo_service_id`): id -> name. */
  nameById: Map<string, string>;
}

export function loadDataSources(files: AppFiles, problems: ProblemList, templates: TemplateExpander): LoadedDataSources {
  const out: LoadedDataSources = { dataSources: [], nameById: new Map() };
  const add = (def: DataSourceDef, id: string): void => {
    const earlier = out.dataSources.find((d) => d.name === def.name);
    if (earlier) {
      problems.error(def.definedIn, 'name', `data source "${def.name}" is already defined in ${earlier.definedIn}; this one is ignored`);
      return;
    }
    out.dataSources.push(def);
    if (id !== '') out.nameById.set(id, def.name);
  };

  for (const dir of files.list('data_sources').dirs) {
    const base = `data_sources/${dir}`;
    const service = readServiceConfig(files, problems, templates, base, dir);
    if (!service) continue;
    const def = service.def;
    def.collections = readCollectionFolders(files, problems, templates, base);
    const defaultRule = readOptionalJson(files, templates, `${base}/default_rule.json`);
    if (defaultRule !== undefined) def.defaultRule = defaultRule;
    add(def, service.id);
  }

  for (const dir of files.list('services').dirs) {
    const base = `services/${dir}`;
    if (!files.isFile(`${base}/config.json`)) continue;
    const service = readServiceConfig(files, problems, templates, base, dir);
    if (!service || !DATA_SOURCE_TYPES.includes(service.def.type)) continue;
    const def = service.def;
    def.collections = readLegacyRules(files, problems, templates, `${base}/rules`);
    const defaultRule = readOptionalJson(files, templates, `${base}/default_rule.json`);
    if (defaultRule !== undefined) def.defaultRule = defaultRule;
    add(def, service.id);
  }
  return out;
}

function readServiceConfig(
  files: AppFiles,
  problems: ProblemList,
  templates: TemplateExpander,
  base: string,
  dir: string,
): { def: DataSourceDef; id: string } | undefined {
  const file = `${base}/config.json`;
  if (!files.isFile(file)) {
    problems.error(base, undefined, 'data source folder has no config.json; skipped');
    return undefined;
  }
  const raw = files.readJson(file);
  if (raw === undefined) return undefined;
  if (!isObject(raw)) {
    problems.error(file, undefined, 'must be a JSON object; data source skipped');
    return undefined;
  }
  const f = new FieldReader(templates.expand(raw, file) as Record<string, unknown>, problems, file, '');
  return {
    def: {
      name: f.string('name').trim() || dir,
      type: f.string('type').trim() || 'mongodb-atlas',
      config: f.object('config'),
      definedIn: file,
      collections: {},
    },
    id: f.string('id'),
  };
}

/** `<base>/<db>/<coll>/{rules.json,schema.json}` (relationships.json is GraphQL/Sync only and not read). */
function readCollectionFolders(files: AppFiles, problems: ProblemList, templates: TemplateExpander, base: string): Collections {
  const collections: Collections = {};
  for (const db of files.list(base).dirs) {
    for (const coll of files.list(`${base}/${db}`).dirs) {
      const rulesFile = `${base}/${db}/${coll}/rules.json`;
      const schemaFile = `${base}/${db}/${coll}/schema.json`;
      const rules = readOptionalJson(files, templates, rulesFile);
      const schema = readOptionalJson(files, templates, schemaFile);
      if (rules === undefined && schema === undefined) continue;
      let database = db;
      let collection = coll;
      if (isObject(rules)) {
        // The folder names are what realm-cli writes from; a rules file that says otherwise is suspicious.
        const f = new FieldReader(rules, problems, rulesFile, '');
        const named = { database: f.string('database'), collection: f.string('collection') };
        if ((named.database && named.database !== db) || (named.collection && named.collection !== coll)) {
          problems.warning(rulesFile, undefined, `names ${named.database}.${named.collection} but sits in ${db}/${coll}/; using ${named.database || db}.${named.collection || coll}`);
          database = named.database || db;
          collection = named.collection || coll;
        }
      }
      const entry: Collections[string] = { database, collection };
      if (rules !== undefined) Object.assign(entry, { rules, rulesFile });
      if (schema !== undefined) Object.assign(entry, { schema, schemaFile });
      collections[`${database}/${collection}`] = entry;
    }
  }
  return collections;
}

/** Legacy `services/<svc>/rules/*.json`: one file per collection, `{database, collection, roles, filters, schema?}`. */
function readLegacyRules(files: AppFiles, problems: ProblemList, templates: TemplateExpander, dir: string): Collections {
  const collections: Collections = {};
  for (const name of files.list(dir).files) {
    if (!name.endsWith('.json')) continue;
    const file = `${dir}/${name}`;
    const rules = readOptionalJson(files, templates, file);
    if (rules === undefined) continue;
    if (!isObject(rules)) {
      problems.error(file, undefined, 'must be a JSON object; ignored');
      continue;
    }
    const f = new FieldReader(rules, problems, file, '');
    const database = f.string('database');
    const collection = f.string('collection');
    if (database === '' || collection === '') {
      problems.error(file, undefined, 'rules file names no "database" and "collection"; ignored');
      continue;
    }
    const entry: Collections[string] = { database, collection, rules, rulesFile: file };
    if (isObject(rules.schema)) Object.assign(entry, { schema: rules.schema, schemaFile: file });
    collections[`${database}/${collection}`] = entry;
  }
  return collections;
}

function readOptionalJson(files: AppFiles, templates: TemplateExpander, file: string): unknown {
  const raw = files.readJsonIfExists(file);
  return raw === undefined ? undefined : templates.expand(raw, file);
}
