// Data benchmarks (issue 4), each next to the practical limit measured in the same interleaved run:
//   (e) an endpoint doing insertOne then findOne by _id, vs a hand-written node:http + better-sqlite3 server
//   (f) find by an indexed field on a 100k-document collection, vs the same server with a SQLite index
// plus the data layer alone (no HTTP, no worker): the same two operations in a loop, as operations/s.
//
// runDataBench() is called by bench/run.ts; `node dist/bench/data-bench.js [--duration s] [--rounds n]
// [--connections n] [--items n] [--workers n]` runs it alone.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { closeDataSources, createServiceClient } from '../src/data';
import type { AppDefinition } from '../src/app/types';
import { openEmbeddedDataSource } from '../src/data/embedded';
import { benchItem } from './data-items';
import { operationsPerSecond, runInterleaved, startAtriumForBench } from './run';
import type { Variant } from './run';

export interface DataBenchOptions {
  duration?: number;
  rounds?: number;
  connections?: number;
  /** Size of the (f) collection (default 100,000). */
  items?: number;
  /** --workers for atrium serve. */
  workers?: number;
  /** Also time the data layer alone (default true). */
  direct?: boolean;
}

export interface DataBenchRow {
  key: string;
  label: string;
  rps: number;
  p99: number;
  ratio: number;
  against: string;
  failed: number;
}

const CATEGORY = 'c1234';

const FUNCTIONS: Record<string, string> = {
  insertFind: `exports = async function () {
  const events = context.services.get("mongodb-atlas").db("bench").collection("events");
  const { insertedId } = await events.insertOne({ name: "event", n: 42, at: new Date(), tags: ["a", "b"] });
  return await events.findOne({ _id: insertedId });
};
`,
  byCategory: `exports = async function (request) {
  const items = context.services.get("mongodb-atlas").db("bench").collection("items");
  return await items.find({ category: request.query.cat }).toArray();
};
`,
};

/** A throwaway app with the two data endpoints (written to a temp dir, so the bench owns no app folder). */
function writeBenchApp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-data-bench-app-'));
  fs.mkdirSync(path.join(dir, 'functions', 'data'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'http_endpoints'));
  fs.mkdirSync(path.join(dir, 'data_sources', 'mongodb-atlas', 'bench', 'items'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'realm_config.json'), JSON.stringify({ config_version: 20210101, app_id: 'data-bench', name: 'data-bench' }));
  fs.writeFileSync(path.join(dir, 'data_sources', 'mongodb-atlas', 'config.json'), JSON.stringify({ name: 'mongodb-atlas', type: 'mongodb-atlas', config: {} }));
  fs.writeFileSync(path.join(dir, 'data_sources', 'mongodb-atlas', 'bench', 'items', 'indexes.json'), JSON.stringify([{ key: { category: 1 } }]));
  const names = Object.keys(FUNCTIONS);
  for (const n of names) fs.writeFileSync(path.join(dir, 'functions', 'data', `${n}.js`), FUNCTIONS[n]);
  fs.writeFileSync(path.join(dir, 'functions', 'config.json'), JSON.stringify(names.map((n) => ({ name: `data/${n}`, private: false, run_as_system: true }))));
  fs.writeFileSync(
    path.join(dir, 'http_endpoints', 'config.json'),
    JSON.stringify(names.map((n) => ({ route: `/${n}`, http_method: 'GET', function_name: `data/${n}`, validation_method: 'NO_VALIDATION', respond_result: true, disabled: false, return_type: 'JSON' }))),
  );
  return dir;
}

async function preload(dataDir: string, items: number): Promise<void> {
  const source = openEmbeddedDataSource(dataDir, 'mongodb-atlas');
  const ns = { db: 'bench', collection: 'items' };
  await source.createIndex(ns, { key: { category: 1 } });
  for (let i = 0; i < items; i += 5000) {
    const batch = [];
    for (let j = i; j < Math.min(items, i + 5000); j++) batch.push({ ...benchItem(j) });
    await source.insertMany(ns, batch, { ordered: true }, {});
  }
  await closeDataSources();
}

function startRawDataServer(file: string, items: number): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [path.join(__dirname, 'data-raw-server.js'), file, String(items)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('raw data server did not start')), 60_000);
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: `http://127.0.0.1:${m[1]}`, proc });
      }
    });
    proc.once('exit', (code) => reject(new Error(`raw data server exited ${code}`)));
  });
}

async function check(url: string, expect: (body: unknown) => boolean, what: string): Promise<void> {
  const res = await fetch(url);
  const body: unknown = await res.json();
  if (res.status !== 200 || !expect(body)) throw new Error(`${what} answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
}

/** The data layer alone: operations per second for (e) and (f) work, in this thread. */
async function directRates(items: number, seconds = 3): Promise<{ e: number; f: number }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-data-bench-direct-'));
  try {
    await preload(dataDir, items);
    const app = { dataSources: [], dir: dataDir } as unknown as AppDefinition;
    const client = createServiceClient({ app, serviceName: 'mongodb-atlas', dataDir, identity: { user: null, runAsSystem: true } })!;
    const events = client.db('bench').collection('events');
    const itemsColl = client.db('bench').collection('items');
    const rate = (op: () => Promise<unknown>): Promise<number> => operationsPerSecond(op, seconds, 500);
    const e = await rate(async () => {
      const { insertedId } = await events.insertOne({ name: 'event', n: 42, at: new Date(), tags: ['a', 'b'] });
      await events.findOne({ _id: insertedId });
    });
    const f = await rate(() => itemsColl.find({ category: CATEGORY }).toArray());
    return { e, f };
  } finally {
    await closeDataSources();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function runDataBench(opts: DataBenchOptions = {}): Promise<DataBenchRow[]> {
  const duration = opts.duration ?? 8;
  const rounds = opts.rounds ?? 3;
  const connections = opts.connections ?? 64;
  const items = opts.items ?? 100_000;
  const perCategory = Math.ceil(items / 10000);
  const appDir = writeBenchApp();
  const rawDir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-data-bench-raw-'));
  const procs: ChildProcess[] = [];
  let atriumDataDir = '';
  try {
    if (opts.direct !== false) {
      const d = await directRates(items);
      process.stdout.write(`data layer alone (no HTTP, no worker): (e) insertOne+findOne ${Math.round(d.e)} ops/s, (f) find by indexed field ${Math.round(d.f)} ops/s\n`);
    }
    const raw = await startRawDataServer(path.join(rawDir, 'raw.sqlite'), items);
    procs.push(raw.proc);
    const atrium = await startAtriumForBench(appDir, opts.workers ? ['--workers', String(opts.workers)] : []);
    procs.push(atrium.proc);
    atriumDataDir = atrium.dataDir;
    // Loaded from this process while the server runs: the store is shared between processes.
    await preload(atrium.dataDir, items);
    await check(`${atrium.endpointBase}/insertFind`, (b) => typeof b === 'object' && b !== null && (b as { n?: unknown }).n === 42, '(e) endpoint');
    await check(`${atrium.endpointBase}/byCategory?cat=${CATEGORY}`, (b) => Array.isArray(b) && b.length === perCategory, '(f) endpoint');
    await check(`${raw.url}/f?cat=${CATEGORY}`, (b) => Array.isArray(b) && b.length === perCategory, '(f) baseline');
    const variants: Variant[] = [
      { key: 'e0', label: 'raw node:http+SQLite: insert, read back by id', url: `${raw.url}/e`, against: 'e0' },
      { key: 'e', label: 'Atrium: insertOne + findOne by _id', url: `${atrium.endpointBase}/insertFind`, against: 'e0' },
      { key: 'f0', label: `raw node:http+SQLite: by indexed column (${items / 1000}k rows)`, url: `${raw.url}/f?cat=${CATEGORY}`, against: 'f0' },
      { key: 'f', label: `Atrium: find by indexed field (${items / 1000}k docs)`, url: `${atrium.endpointBase}/byCategory?cat=${CATEGORY}`, against: 'f0' },
    ];
    process.stdout.write(`Atrium data bench: ${os.cpus().length} cores, node ${process.version}, ${connections} connections, ${rounds} rounds x ${duration}s, interleaved\n`);
    return await runInterleaved(variants, { rounds, duration, connections });
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    await closeDataSources();
    for (const d of [appDir, rawDir, atriumDataDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
  }
}

function arg(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i !== -1 ? Number(process.argv[i + 1]) : undefined;
}

if (require.main === module) {
  runDataBench({ duration: arg('duration'), rounds: arg('rounds'), connections: arg('connections'), items: arg('items'), workers: arg('workers') }).then(
    (rows) => {
      if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(rows) + '\n');
    },
    (err: unknown) => {
      process.stderr.write(`data bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
