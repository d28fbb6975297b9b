// Rules benchmark (issue 6): the data endpoint (e) -- insertOne then findOne by _id, run as system -- against
// (i), the same endpoint run as an application user (Bearer token) under a per-user role
// (apply_when {"owner_id": "%%user.id"}) with a schema, interleaved in one run. Target: (i) >= 70% of (e).
// (j) is (i) without the Bearer token (run_as_user_id): the cost of the rules alone, without authentication.
// Also the data layer alone (no HTTP, no worker): the same two operations as system and through the rules.
//
// runRulesBench() can be called by bench/run.ts; `node dist/bench/rules-bench.js [--duration s] [--rounds n]
// [--connections n] [--workers n] [--json]` runs it alone.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { closeDataSources, createServiceClient } from '../src/data';
import { loadApp } from '../src/app';
import { operationsPerSecond, runInterleaved } from './run';
import type { Variant } from './run';

const INSERT_FIND = (owner: string): string => `exports = async function () {
  const events = context.services.get("mongodb-atlas").db("bench").collection("events");
  const { insertedId } = await events.insertOne({ owner_id: ${owner}, name: "event", n: 42, at: new Date(), tags: ["a", "b"] });
  return await events.findOne({ _id: insertedId });
};
`;

const RULES = {
  database: 'bench',
  collection: 'events',
  roles: [
    {
      name: 'owner',
      apply_when: { owner_id: '%%user.id' },
      insert: true,
      delete: true,
      fields: { secret: { read: false, write: false } },
      additional_fields: { read: true, write: true },
    },
  ],
  filters: [],
};

const SCHEMA = {
  title: 'event',
  required: ['_id', 'owner_id', 'name'],
  properties: { _id: { bsonType: 'objectId' }, owner_id: { bsonType: 'string' }, name: { bsonType: 'string' }, n: { bsonType: 'int' }, at: { bsonType: 'date' }, tags: { bsonType: 'array', items: { bsonType: 'string' } } },
};

/** A throwaway app: /system (run as system) and /user (application auth) doing the same work. */
export function writeRulesBenchApp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-rules-bench-app-'));
  const coll = path.join(dir, 'data_sources', 'mongodb-atlas', 'bench', 'events');
  fs.mkdirSync(path.join(dir, 'functions', 'rb'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'http_endpoints'));
  fs.mkdirSync(path.join(dir, 'auth'));
  fs.mkdirSync(coll, { recursive: true });
  fs.writeFileSync(path.join(dir, 'realm_config.json'), JSON.stringify({ config_version: 20210101, app_id: 'rules-bench', name: 'rules-bench' }));
  fs.writeFileSync(path.join(dir, 'auth', 'providers.json'), JSON.stringify({ 'local-userpass': { name: 'local-userpass', type: 'local-userpass', disabled: false, config: { autoConfirm: true, resetPasswordUrl: 'https://example.com' } } }));
  fs.writeFileSync(path.join(dir, 'data_sources', 'mongodb-atlas', 'config.json'), JSON.stringify({ name: 'mongodb-atlas', type: 'mongodb-atlas', config: {} }));
  fs.writeFileSync(path.join(coll, 'rules.json'), JSON.stringify(RULES));
  fs.writeFileSync(path.join(coll, 'schema.json'), JSON.stringify(SCHEMA));
  fs.writeFileSync(path.join(dir, 'functions', 'rb', 'system.js'), INSERT_FIND('"system"'));
  fs.writeFileSync(path.join(dir, 'functions', 'rb', 'user.js'), INSERT_FIND('context.user.id'));
  fs.writeFileSync(path.join(dir, 'functions', 'rb', 'asUser.js'), INSERT_FIND('context.user.id'));
  const endpoint = (route: string, fn: string) => ({ route, http_method: 'GET', function_name: fn, validation_method: 'NO_VALIDATION', respond_result: true, disabled: false, return_type: 'JSON' });
  fs.writeFileSync(path.join(dir, 'http_endpoints', 'config.json'), JSON.stringify([endpoint('/system', 'rb/system'), endpoint('/user', 'rb/user'), endpoint('/asUser', 'rb/asUser')]));
  return dir;
}

/** functions/config.json, once the user that rb/asUser runs as exists. */
function writeFunctionConfig(dir: string, userId: string): void {
  const fns = [{ name: 'rb/system', private: false, run_as_system: true }, { name: 'rb/user', private: false }, { name: 'rb/asUser', private: false, run_as_user_id: userId }];
  fs.writeFileSync(path.join(dir, 'functions', 'config.json'), JSON.stringify(fns));
}

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'atrium.js');

/** Creates the bench user in `dataDir` with the CLI (before the server starts) and returns its id. */
function createUser(appDir: string, dataDir: string, email: string, password: string): string {
  writeFunctionConfig(appDir, '000000000000000000000000');
  const r = spawnSync(process.execPath, [BIN, 'users', 'create', appDir, '--data-dir', dataDir, '--email', email, '--password', password], { encoding: 'utf8', timeout: 60_000 });
  const m = /Created user ([0-9a-f]{24})/.exec(r.stdout);
  if (!m) throw new Error(`atrium users create failed: ${r.stdout}${r.stderr}`);
  return m[1];
}

function startServer(appDir: string, dataDir: string, extraArgs: string[]): Promise<{ endpointBase: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [BIN, 'serve', appDir, '--port', '0', '--data-dir', dataDir, '--log-format', 'none', ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`atrium did not start: ${buf}`)), 60_000);
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const m = /at (http:\/\/127\.0\.0\.1:\d+\/app\/[^/\s]+\/endpoint)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve({ endpointBase: m[1], proc });
      }
    });
    proc.once('exit', (code) => reject(new Error(`atrium exited with ${code}: ${buf}`)));
  });
}

async function json(url: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** insertOne + findOne per second through the data layer, as system and as a user under the rules. */
async function directRates(appDir: string, seconds = 3): Promise<{ system: number; user: number }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-rules-bench-direct-'));
  try {
    const app = loadApp(appDir);
    const user = { id: '65a1b2c3d4e5f60718293a4b', type: 'normal' as const, data: {}, custom_data: {}, identities: [] };
    const rate = async (system: boolean): Promise<number> => {
      const op = async (): Promise<void> => {
        // A client per operation, as per invocation in the server.
        const client = createServiceClient({ app, serviceName: 'mongodb-atlas', dataDir, identity: { user, runAsSystem: system } })!;
        const events = client.db('bench').collection('events');
        const { insertedId } = await events.insertOne({ owner_id: user.id, name: 'event', n: 42, at: new Date(), tags: ['a', 'b'] });
        const doc = await events.findOne({ _id: insertedId });
        if (!doc) throw new Error('inserted document not readable');
      };
      return operationsPerSecond(op, seconds, 300);
    };
    return { system: await rate(true), user: await rate(false) };
  } finally {
    await closeDataSources();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function runRulesBench(opts: { duration?: number; rounds?: number; connections?: number; workers?: number; direct?: boolean } = {}) {
  const appDir = writeRulesBenchApp();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-rules-bench-'));
  let atrium: { endpointBase: string; proc: ChildProcess } | undefined;
  try {
    const creds = { email: 'bench@example.com', password: 'bench-password-1' };
    const userId = createUser(appDir, dataDir, creds.email, creds.password);
    writeFunctionConfig(appDir, userId);
    if (opts.direct !== false) {
      const d = await directRates(appDir);
      process.stdout.write(`data layer alone: insertOne+findOne ${Math.round(d.system)} ops/s as system, ${Math.round(d.user)} ops/s under rules (${((d.user / d.system) * 100).toFixed(0)}%)\n`);
    }
    atrium = await startServer(appDir, dataDir, opts.workers ? ['--workers', String(opts.workers)] : []);
    const base = atrium.endpointBase.replace(/\/endpoint$/, '');
    const client = `${base.replace('/app/', '/api/client/v2.0/app/')}/auth/providers/local-userpass`;
    const login = await json(`${client}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: creds.email, password: creds.password }) });
    if (login.status !== 200) throw new Error(`login answered ${login.status}: ${JSON.stringify(login.body)}`);
    const headers = { authorization: `Bearer ${login.body.access_token as string}` };
    const probe = await json(`${atrium.endpointBase}/user`, { headers });
    if (probe.status !== 200 || probe.body?.owner_id !== login.body.user_id) throw new Error(`(i) endpoint answered ${probe.status}: ${JSON.stringify(probe.body)}`);
    const probeJ = await json(`${atrium.endpointBase}/asUser`);
    if (probeJ.status !== 200 || probeJ.body?.owner_id !== userId) throw new Error(`(j) endpoint answered ${probeJ.status}: ${JSON.stringify(probeJ.body)}`);
    const variants: Variant[] = [
      { key: 'e', label: 'Atrium: insertOne + findOne by _id (system)', url: `${atrium.endpointBase}/system`, against: 'e' },
      { key: 'i', label: 'same as an application user, per-user role + schema', url: `${atrium.endpointBase}/user`, headers, against: 'e' },
      { key: 'j', label: '(i) via run_as_user_id: rules without authentication', url: `${atrium.endpointBase}/asUser`, against: 'e' },
    ];
    const connections = opts.connections ?? 64;
    const rounds = opts.rounds ?? 3;
    const duration = opts.duration ?? 8;
    process.stdout.write(`Atrium rules bench: ${os.cpus().length} cores, node ${process.version}, ${connections} connections, ${rounds} rounds x ${duration}s, interleaved\n`);
    return await runInterleaved(variants, { rounds, duration, connections });
  } finally {
    atrium?.proc.kill('SIGTERM');
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(appDir, { recursive: true, force: true });
  }
}

function arg(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i !== -1 ? Number(process.argv[i + 1]) : undefined;
}

if (require.main === module) {
  runRulesBench({ duration: arg('duration'), rounds: arg('rounds'), connections: arg('connections'), workers: arg('workers') }).then(
    (rows) => {
      if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(rows) + '\n');
    },
    (err: unknown) => {
      process.stderr.write(`rules bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
