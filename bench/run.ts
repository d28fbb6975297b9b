// `npm run bench`: Atrium against a raw node:http baseline in the same run, interleaved round-robin,
// reporting median req/s, median p99 and the median per-round ratio to the baseline (notes/machine-feasibility.md).
//
//   (a) raw node:http answering a small JSON
//   (b) Atrium hello endpoint (run as system, respond_result, returns a small object)
//   (c) Atrium echo endpoint: JSON.parse(request.body.text()) of a 1 KB body
//   (d) Atrium endpoint calling three functions through context.functions.execute (reported against b)
//   (g) the hello endpoint with application auth, called with an `apiKey` header (reported against b)
//   (h) the same, called with `Authorization: Bearer <access token>` (reported against b)
// then the data benchmarks (e)/(f) (bench/data-bench.ts) and the rules benchmark (i) (bench/rules-bench.ts).
//
// Flags: --duration <s> (default 8), --rounds <n> (default 3), --connections <n> (default 64), --workers <n>,
//        --only a,b,c (subset), --tool wrk|autocannon, --json (machine-readable result on the last line).
//
// Load generator: wrk (`wrk -t1`, as in notes/machine-feasibility.md) when it is installed, else autocannon. On two
// cores the generator's own CPU counts: autocannon, a Node process, needs about a whole core to make 80k req/s,
// which a single-threaded baseline does not mind but a server with a worker thread does; wrk needs about half.
import { execFile, execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
// These two import this module back; the cycle is safe because they use its exports only at call time.
import { runDataBench } from './data-bench';
import { runRulesBench } from './rules-bench';
// autocannon ships no types; the subset used here is declared below.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const autocannon = require('autocannon') as (opts: AutocannonOptions) => Promise<AutocannonResult>;

interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  method?: string;
  body?: string;
  headers?: Record<string, string>;
}
interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

const ROOT = path.resolve(__dirname, '..', '..');


export interface Variant {
  key: string;
  label: string;
  url: string;
  method?: string;
  body?: string;
  headers?: Record<string, string>;
  /** Key of the variant this one's ratio is reported against. */
  against: string;
}

interface Sample {
  rps: number;
  p99: number;
  bad: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i !== -1 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function waitForLine(proc: ChildProcess, stream: 'stdout' | 'stderr', re: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}: ${buf}`)), timeoutMs);
    proc[stream]!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const m = re.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    proc.once('exit', (code) => reject(new Error(`process exited with ${code}: ${buf}`)));
  });
}

export async function startRawBaseline(): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [path.join(__dirname, 'raw-server.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const m = await waitForLine(proc, 'stdout', /listening (\d+)/);
  return { url: `http://127.0.0.1:${m[1]}`, proc };
}

export async function startAtriumForBench(appDir: string, extraArgs: string[] = [], givenDataDir?: string): Promise<{ endpointBase: string; proc: ChildProcess; dataDir: string }> {
  const dataDir = givenDataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-bench-'));
  const proc = spawn(
    process.execPath,
    [path.join(ROOT, 'bin', 'atrium.js'), 'serve', appDir, '--port', '0', '--data-dir', dataDir, '--log-format', 'none', ...extraArgs],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const m = await waitForLine(proc, 'stderr', /at (http:\/\/127\.0\.0\.1:\d+\/app\/[^/\s]+\/endpoint)/);
  proc.stderr!.resume();
  return { endpointBase: m[1], proc, dataDir };
}

export type LoadTool = 'wrk' | 'autocannon';

let chosenTool: LoadTool | undefined;

function wrkInstalled(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // wrk prints its version and exits 1; only a missing binary is "not installed".
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/** The load generator of this run: --tool, else wrk when installed, else autocannon. */
export function loadTool(): LoadTool {
  if (chosenTool) return chosenTool;
  const asked = arg('tool', '');
  if (asked !== '' && asked !== 'wrk' && asked !== 'autocannon') throw new Error(`--tool must be wrk or autocannon, got "${asked}"`);
  if (asked === 'wrk' && !wrkInstalled()) throw new Error('--tool wrk: wrk is not installed (apt-get install -y wrk)');
  chosenTool = asked === 'autocannon' ? 'autocannon' : asked === 'wrk' || wrkInstalled() ? 'wrk' : 'autocannon';
  if (chosenTool === 'autocannon' && asked === '') {
    process.stderr.write('note: wrk is not installed (apt-get install -y wrk), so autocannon makes the load; on a small machine it takes\n' +
      'a core of its own and Atrium ratios come out lower than with wrk, which the README figures use.\n');
  }
  return chosenTool;
}

/** wrk's Lua script for a variant's method, body and headers. */
function wrkScript(v: Variant): string {
  const lines = [`wrk.method = ${JSON.stringify(v.method ?? 'GET')}`];
  if (v.body !== undefined) lines.push(`wrk.body = ${JSON.stringify(v.body)}`);
  for (const [k, val] of Object.entries(v.headers ?? {})) lines.push(`wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(val)}`);
  return lines.join('\n') + '\n';
}

/** Milliseconds from a wrk latency such as 812.00us, 4.10ms or 1.02s. */
function wrkMillis(text: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}

async function measureWithWrk(v: Variant, connections: number, duration: number): Promise<Sample> {
  const script = path.join(os.tmpdir(), `atrium-bench-${process.pid}-${v.key}.lua`);
  fs.writeFileSync(script, wrkScript(v));
  try {
    const out = await new Promise<string>((resolve, reject) => {
      execFile('wrk', ['-t1', `-c${connections}`, `-d${duration}s`, '--latency', '-s', script, v.url], { timeout: (duration + 30) * 1000 }, (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      );
    });
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
    const p99 = wrkMillis(/^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? '');
    const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
    const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
    const errors = socketErrors ? socketErrors.slice(1).reduce((n, x) => n + Number(x), 0) : 0;
    if (!(rps >= 0) || Number.isNaN(p99)) throw new Error(`could not read wrk's output:\n${out}`);
    return { rps, p99, bad: non2xx + errors };
  } finally {
    fs.rmSync(script, { force: true });
  }
}

export async function measure(v: Variant, connections: number, duration: number): Promise<Sample> {
  if (loadTool() === 'wrk') return measureWithWrk(v, connections, duration);
  const opts: AutocannonOptions = { url: v.url, connections, duration };
  if (v.method) opts.method = v.method;
  if (v.body !== undefined) opts.body = v.body;
  if (v.headers) opts.headers = v.headers;
  const r = await autocannon(opts);
  return { rps: r.requests.average, p99: r.latency.p99, bad: r.non2xx + r.errors + r.timeouts };
}

/** Operations per second of `op` run back to back for `seconds`, after `warmup` runs (data layer alone). */
export async function operationsPerSecond(op: () => Promise<unknown>, seconds: number, warmup: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await op();
  let n = 0;
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    for (let i = 0; i < 100; i++) await op();
    n += 100;
  }
  return n / seconds;
}

/** Runs every variant round-robin for `rounds` rounds and prints a table; returns the rows. */
export async function runInterleaved(variants: Variant[], opts: { rounds: number; duration: number; connections: number }) {
  const samples = new Map<string, Sample[]>(variants.map((v) => [v.key, []]));
  // Warm up each variant (JIT, worker start, caches) before measuring.
  for (const v of variants) await measure(v, opts.connections, 2);
  for (let round = 0; round < opts.rounds; round++) {
    for (const v of variants) {
      const s = await measure(v, opts.connections, opts.duration);
      samples.get(v.key)!.push(s);
      process.stderr.write(`round ${round + 1}/${opts.rounds} ${v.key}: ${Math.round(s.rps)} req/s, p99 ${s.p99} ms${s.bad ? `, ${s.bad} failed` : ''}\n`);
    }
  }
  const rows = variants.map((v) => {
    const mine = samples.get(v.key)!;
    const base = samples.get(v.against)!;
    const ratios = mine.map((s, i) => s.rps / base[i].rps);
    return {
      key: v.key,
      label: v.label,
      rps: Math.round(median(mine.map((s) => s.rps))),
      p99: median(mine.map((s) => s.p99)),
      ratio: median(ratios),
      against: v.against,
      failed: mine.reduce((n, s) => n + s.bad, 0),
    };
  });
  const out = ['', `${'variant'.padEnd(58)} ${'req/s'.padStart(8)} ${'p99 ms'.padStart(7)}  ratio`];
  for (const r of rows) {
    out.push(`${`(${r.key}) ${r.label}`.padEnd(58)} ${String(r.rps).padStart(8)} ${r.p99.toFixed(1).padStart(7)}  ${(r.ratio * 100).toFixed(0)}% of (${r.against})${r.failed ? `  [${r.failed} failed]` : ''}`);
  }
  process.stdout.write(out.join('\n') + '\n');
  return rows;
}

/** Creates a server API key with the CLI (the key is the last line it prints). */
function createApiKey(appDir: string, dataDir: string): string {
  const out = execFileSync(process.execPath, [path.join(ROOT, 'bin', 'atrium.js'), 'apikeys', 'create', appDir, '--data-dir', dataDir, '--name', 'bench'], { encoding: 'utf8' });
  return out.trim().split('\n').pop() ?? '';
}

async function loginWithApiKey(endpointBase: string, key: string): Promise<string> {
  const base = endpointBase.replace(/\/app\/([^/]+)\/endpoint$/, '/api/client/v2.0/app/$1');
  const res = await fetch(`${base}/auth/providers/api-key/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key }) });
  if (!res.ok) throw new Error(`api-key login failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function main(): Promise<void> {
  const duration = Number(arg('duration', '8'));
  const rounds = Number(arg('rounds', '3'));
  const connections = Number(arg('connections', '64'));
  const workers = arg('workers', '');
  const only = arg('only', '').split(',').filter(Boolean);
  const raw = await startRawBaseline();
  const benchApp = path.join(ROOT, 'bench', 'app');
  const benchData = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-bench-'));
  const apiKey = createApiKey(benchApp, benchData);
  const atrium = await startAtriumForBench(benchApp, workers ? ['--workers', workers] : [], benchData);
  // Access tokens live 30 minutes: long enough for the whole run.
  const accessToken = await loginWithApiKey(atrium.endpointBase, apiKey);
  const kb = JSON.stringify({ items: Array.from({ length: 20 }, (_, i) => ({ id: i, name: `item-${i}`, tags: ['a', 'b'] })) }).padEnd(1024, ' ');
  const all: Variant[] = [
    { key: 'a', label: 'raw node:http, small JSON', url: `${raw.url}/`, against: 'a' },
    { key: 'b', label: 'Atrium hello endpoint (system, respond_result)', url: `${atrium.endpointBase}/hello`, against: 'a' },
    { key: 'c', label: 'Atrium echo endpoint, 1 KB JSON body', url: `${atrium.endpointBase}/echo`, method: 'POST', body: kb, headers: { 'content-type': 'application/json' }, against: 'a' },
    { key: 'd', label: 'Atrium endpoint calling 3 functions (execute)', url: `${atrium.endpointBase}/chain`, against: 'b' },
    { key: 'g', label: 'Atrium hello endpoint as a user, apiKey header', url: `${atrium.endpointBase}/hello-user`, headers: { apiKey }, against: 'b' },
    { key: 'h', label: 'Atrium hello endpoint as a user, Bearer token', url: `${atrium.endpointBase}/hello-user`, headers: { authorization: `Bearer ${accessToken}` }, against: 'b' },
  ];
  // --only picks variants; the ones they are measured against come along.
  const wanted = new Set(only.length ? only : all.map((v) => v.key).concat(['e', 'f', 'i']));
  for (let pass = 0; pass < 2; pass++) for (const v of all) if (wanted.has(v.key)) wanted.add(v.against);
  const variants = all.filter((v) => wanted.has(v.key));
  try {
    process.stdout.write(`Atrium bench: ${os.cpus().length} cores, node ${process.version}, ${loadTool() === 'wrk' ? 'wrk -t1' : 'autocannon'}, ${connections} connections, ${rounds} rounds x ${duration}s, interleaved\n`);
    const rows = await runInterleaved(variants, { rounds, duration, connections });
    if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(rows) + '\n');
  } finally {
    raw.proc.kill('SIGKILL');
    atrium.proc.kill('SIGTERM');
    fs.rmSync(atrium.dataDir, { recursive: true, force: true });
  }
  const opts = { duration, rounds, connections, workers: workers ? Number(workers) : undefined };
  if (wanted.has('e') || wanted.has('f')) {
    process.stdout.write('\nData (e)/(f), against a hand-written node:http + better-sqlite3 server:\n');
    await runDataBench(opts);
  }
  if (wanted.has('i')) {
    process.stdout.write('\nRules (i), against (e) run as system:\n');
    await runRulesBench(opts);
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
