// `atrium data import|export|indexes`: move documents in and out of a data source and manage its indexes.
// Works on the embedded store under --data-dir (also while `atrium serve` runs on it) or, with
// --mongodb-uri / ATRIUM_MONGODB_URI_<NAME>, on a real MongoDB deployment.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { EJSON } from 'bson';
import { loadApp } from '../app';
import type { AppDefinition } from '../app';
import { closeDataSources, dataSourceNames, ensureConfiguredIndexes, InputError, openDataSource, ProgressBar, readDocuments, scanCollection } from '../data';
import type { DataSource, Document, Namespace } from '../data';
import { flag, intFlag, parseArgs, UsageError } from './args';
import type { ParsedArgs } from './args';
import { mongodbUris } from './serve';

const COMMON_OPTIONS = `  --db <name>              database (required)
  --collection <name>      collection (required)
  --service <name>         data source name (default mongodb-atlas)
  --data-dir <dir>         Atrium's state directory (default ./.atrium)
  --mongodb-uri <uri>      use this MongoDB deployment instead of the embedded store
                           (also ATRIUM_MONGODB_URI_<NAME>)`;

export const DATA_HELP = `Usage: atrium data <command> <appDir> [options]

Commands:
  import    load documents from a JSON array or EJSON-lines file
  export    write a collection as a JSON array or EJSON lines
  indexes   list, create or drop the indexes of a collection

Run "atrium data <command> --help" for the options of each command.
`;

const IMPORT_HELP = `Usage: atrium data import <appDir> --db <db> --collection <coll> [options] <file>

Reads a JSON array of documents or one (Extended) JSON document per line, like mongoimport
("-" reads standard input). Canonical EJSON keeps BSON types ({"$oid": ...}, {"$date": ...},
{"$numberLong": ...}). Documents are written in batches, each batch in one transaction; the first
malformed document stops the import and is reported with its line (earlier batches stay imported).
Indexes declared in data_sources/<service>/<db>/<coll>/indexes.json are created first.

Options:
${COMMON_OPTIONS}
  --mode <insert|upsert>   insert (default: an existing _id is an error) or upsert (replace by _id)
  --batch-size <n>         documents per transaction (default 1000)
  --help                   show this help
`;

const EXPORT_HELP = `Usage: atrium data export <appDir> --db <db> --collection <coll> [options]

Writes every document of the collection in canonical Extended JSON, which keeps every BSON type
and can be read back by "atrium data import" and mongoimport.

Options:
${COMMON_OPTIONS}
  --out <file>             write here instead of standard output
  --format <json|ejsonl>   a JSON array (default) or one document per line
  --help                   show this help
`;

const INDEXES_HELP = `Usage: atrium data indexes <appDir> --db <db> --collection <coll> [options]

Lists the indexes of a collection (after creating those declared in indexes.json), or creates/drops one.

Options:
${COMMON_OPTIONS}
  --create <keys>          create an index, keys as JSON, e.g. '{"email": 1}' or '{"a": 1, "b": -1}'
  --unique                 with --create: a unique index
  --sparse                 with --create: skip documents without the indexed fields
  --name <name>            with --create: the index name (default field_1_other_-1)
  --drop <name>            drop the index with this name
  --help                   show this help
`;

const COMMON_FLAGS = ['db', 'collection', 'service', 'data-dir', 'mongodb-uri'];

interface Target {
  app: AppDefinition;
  source: DataSource;
  ns: Namespace;
  service: string;
  dataDir: string;
  uris: Record<string, string>;
  where: string;
}

function required(args: ParsedArgs, name: string): string {
  const v = flag(args, name);
  if (!v) throw new UsageError(`--${name} is required`);
  return v;
}

function resolveTarget(args: ParsedArgs, command: string): Target {
  const appDirArg = args.positionals[0];
  if (!appDirArg) throw new UsageError(`data ${command} needs an <appDir>; see "atrium data ${command} --help"`);
  const appDir = path.resolve(appDirArg);
  if (!fs.existsSync(appDir) || !fs.statSync(appDir).isDirectory()) throw new UsageError(`app directory ${appDir} does not exist`);
  const app = loadApp(appDir, {});
  const service = flag(args, 'service') ?? 'mongodb-atlas';
  const names = dataSourceNames(app);
  if (!names.includes(service)) throw new UsageError(`the app has no MongoDB data source named "${service}" (it has: ${names.join(', ')})`);
  const ns = { db: required(args, 'db'), collection: required(args, 'collection') };
  const dataDir = path.resolve(flag(args, 'data-dir') ?? '.atrium');
  const given = flag(args, 'mongodb-uri');
  const uris = mongodbUris(app, [], process.env);
  if (given) uris[service] = given;
  const uri = uris[service];
  return {
    app,
    service,
    ns,
    dataDir,
    uris,
    source: openDataSource(service, dataDir, uri),
    where: uri ? `data source "${service}" (MongoDB)` : `data source "${service}" (embedded store in ${dataDir})`,
  };
}

async function warnConfiguredIndexes(t: Target): Promise<void> {
  for (const p of await ensureConfiguredIndexes(t.app, t.dataDir, t.uris)) process.stderr.write(`warning: ${p}\n`);
}

async function runImport(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { known: [...COMMON_FLAGS, 'mode', 'batch-size'] });
  if (args.flags.has('help')) {
    process.stdout.write(IMPORT_HELP);
    return 0;
  }
  if (args.positionals.length !== 2) throw new UsageError('data import needs <appDir> and <file>; see "atrium data import --help"');
  const mode = flag(args, 'mode') ?? 'insert';
  if (mode !== 'insert' && mode !== 'upsert') throw new UsageError('--mode must be insert or upsert');
  const batchSize = intFlag(args, 'batch-size', 1000, 1);
  const file = args.positionals[1];
  let input: Readable;
  let size = 0;
  if (file === '-') input = process.stdin;
  else {
    if (!fs.existsSync(file)) throw new UsageError(`input file ${file} does not exist`);
    size = fs.statSync(file).size;
    input = fs.createReadStream(file);
  }
  const t = resolveTarget(args, 'import');
  await warnConfiguredIndexes(t);
  const progress = size > 1024 * 1024 ? new ProgressBar(size, `importing ${path.basename(file)}`) : null;
  let imported = 0;
  let batch: Document[] = [];
  let lines: number[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    try {
      if (mode === 'insert') await t.source.insertMany(t.ns, batch, { ordered: true }, {});
      else {
        await t.source.bulkWrite(
          t.ns,
          batch.map((doc) => ('_id' in doc ? { replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } } : { insertOne: { document: doc } })),
          { ordered: true },
          {},
        );
      }
    } catch (err) {
      // Batches are ordered: the documents before the failing one are written, none after it.
      const failed = (err as { writeErrors?: Array<{ index: number }> }).writeErrors?.[0]?.index ?? 0;
      throw new Error(
        `the document at line ${lines[failed]} was refused: ${err instanceof Error ? err.message : String(err)}; ${imported + failed} documents imported before it (nothing after it)`,
      );
    }
    imported += batch.length;
    batch = [];
    lines = [];
  };
  try {
    for await (const d of readDocuments(input, (n) => progress?.advance(n, imported + batch.length))) {
      batch.push(d.doc);
      lines.push(d.line);
      if (batch.length >= batchSize) await flush();
    }
    await flush();
  } catch (err) {
    progress?.finish(imported, false);
    if (err instanceof InputError) {
      process.stderr.write(`atrium: ${err.message}; ${imported} documents imported before it (nothing after it).\n`);
      return 1;
    }
    process.stderr.write(`atrium: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    await closeDataSources();
  }
  progress?.finish(imported);
  process.stderr.write(`imported ${imported} documents into ${t.ns.db}.${t.ns.collection} of ${t.where}\n`);
  return 0;
}

async function runExport(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { known: [...COMMON_FLAGS, 'out', 'format'] });
  if (args.flags.has('help')) {
    process.stdout.write(EXPORT_HELP);
    return 0;
  }
  if (args.positionals.length !== 1) throw new UsageError('data export needs exactly one <appDir>; see "atrium data export --help"');
  const format = flag(args, 'format') ?? 'json';
  if (format !== 'json' && format !== 'ejsonl') throw new UsageError('--format must be json or ejsonl');
  const t = resolveTarget(args, 'export');
  const outFile = flag(args, 'out');
  const out = outFile ? fs.createWriteStream(outFile) : process.stdout;
  const write = (text: string): Promise<void> =>
    new Promise((resolve, reject) => {
      if (out.write(text)) resolve();
      else out.once('drain', resolve).once('error', reject);
    });
  let count = 0;
  try {
    if (format === 'json') await write('[');
    for await (const batch of scanCollection(t.source, t.ns)) {
      const lines = batch.map((d) => EJSON.stringify(d, { relaxed: false }));
      if (format === 'json') await write(`${count === 0 ? '\n' : ',\n'}${lines.join(',\n')}`);
      else await write(lines.map((l) => `${l}\n`).join(''));
      count += batch.length;
    }
    if (format === 'json') await write(count === 0 ? ']\n' : '\n]\n');
  } catch (err) {
    process.stderr.write(`atrium: export failed after ${count} documents: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    await closeDataSources();
    if (outFile) await new Promise<void>((resolve) => (out as fs.WriteStream).end(resolve));
  }
  process.stderr.write(`exported ${count} documents from ${t.ns.db}.${t.ns.collection} of ${t.where}${outFile ? ` to ${outFile}` : ''}\n`);
  return 0;
}

async function runIndexes(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { known: [...COMMON_FLAGS, 'create', 'name', 'drop'], booleans: ['unique', 'sparse'] });
  if (args.flags.has('help')) {
    process.stdout.write(INDEXES_HELP);
    return 0;
  }
  if (args.positionals.length !== 1) throw new UsageError('data indexes needs exactly one <appDir>; see "atrium data indexes --help"');
  const create = flag(args, 'create');
  const drop = flag(args, 'drop');
  if (create && drop) throw new UsageError('use either --create or --drop');
  let keys: Record<string, number> | undefined;
  if (create) {
    try {
      keys = JSON.parse(create) as Record<string, number>;
    } catch {
      throw new UsageError(`--create expects the index keys as JSON, e.g. '{"email": 1}' (got ${create})`);
    }
    if (typeof keys !== 'object' || keys === null || Array.isArray(keys)) throw new UsageError(`--create expects a JSON object such as '{"email": 1}'`);
  }
  const t = resolveTarget(args, 'indexes');
  try {
    await warnConfiguredIndexes(t);
    if (keys) {
      const name = await t.source.createIndex(t.ns, { key: keys, unique: args.flags.has('unique'), sparse: args.flags.has('sparse'), name: flag(args, 'name') });
      process.stdout.write(`${name}\n`);
      return 0;
    }
    if (drop) {
      await t.source.dropIndex(t.ns, drop);
      process.stdout.write(`dropped ${drop}\n`);
      return 0;
    }
    for (const ix of await t.source.listIndexes(t.ns)) {
      const flags = [ix.unique && ix.name !== '_id_' ? 'unique' : '', ix.sparse ? 'sparse' : ''].filter(Boolean).join(', ');
      process.stdout.write(`${ix.name.padEnd(24)} ${JSON.stringify(ix.key)}${flags ? `  (${flags})` : ''}\n`);
    }
    return 0;
  } catch (err) {
    process.stderr.write(`atrium: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    await closeDataSources();
  }
}

/** Entry point for `atrium data ...` (argv after "data"); resolves to the exit code. */
export async function runDataCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'import':
      return runImport(rest);
    case 'export':
      return runExport(rest);
    case 'indexes':
      return runIndexes(rest);
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(DATA_HELP);
      return sub === undefined ? 2 : 0;
    default:
      process.stderr.write(`atrium: unknown data command "${sub}"\n\n${DATA_HELP}`);
      return 2;
  }
}
