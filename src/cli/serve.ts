// `atrium serve <appDir>`: load the app, install its npm dependencies, start the worker pool and the HTTP server.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as v8 from 'node:v8';
import * as path from 'node:path';
import { collectSecrets, formatProblem, loadApp } from '../app';
import type { AppDefinition } from '../app';
import { checkMongoConnection, ensureConfiguredIndexes } from '../data';
import { startServer, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CONCURRENCY } from '../http';
import { LogStore } from '../platform';
import { ensureDependencies, FunctionPool } from '../runtime';
import { flag, intFlag, parseArgs, UsageError } from './args';
import { createEndpointAuth } from './auth-wiring';
import { notifySupervisor, superviseServe, SUPERVISED_ENV } from './supervisor';

export const SERVE_HELP = `Usage: atrium serve <appDir> [options]

Serves the HTTPS endpoints of an exported App Services app at
http://<host>:<port>/app/<appId>/endpoint/<route>.

Options:
  --port <n>                 TCP port (default 8080; 0 picks a free one)
  --host <addr>              address to listen on (default 127.0.0.1)
  --data-dir <dir>           where Atrium keeps its state (default ./.atrium)
  --secrets <file.json>      JSON object of secret name -> value
                             (also ATRIUM_SECRET_<NAME> environment variables)
  --function-timeout-ms <n>  time limit per invocation (default 300000, as App Services)
  --workers <n>              function worker threads (default: cores - 1, at least 1; one
                             booted spare also waits to replace a blocked or dead worker)
  --max-heap-mb <n>          heap limit per worker thread in MB (default 350)
  --max-body-bytes <n>       largest request body accepted (default ${DEFAULT_MAX_BODY_BYTES})
  --max-concurrency <n>      concurrent requests before answering 429 (default ${DEFAULT_MAX_CONCURRENCY})
  --mongodb-uri <name=uri>   serve data source <name> from a real MongoDB deployment
                             (repeatable; also ATRIUM_MONGODB_URI_<NAME>)
  --access-token-ttl <s>     access token lifetime in seconds (default 1800)
  --refresh-token-ttl <s>    refresh token lifetime in seconds (default 5184000, 60 days)
  --signing-key-file <file>  file holding the token signing key (at least 32 characters); by default a
                             key is generated on first start and kept under --data-dir
  --log-format <json|none>   per-request log lines on stdout (default json)
  --no-supervisor            run without the supervising process that restarts the server
                             if V8 aborts it (see docs/deployment.md)
  --no-freeze-intrinsics     leave the built-in prototypes of the worker threads writable, for
                             npm packages that patch built-ins (prototype pollution by one
                             invocation is then visible to later ones; see docs/compat.md)
  --help                     show this help
`;

const SERVE_FLAGS = {
  known: ['port', 'host', 'data-dir', 'secrets', 'function-timeout-ms', 'workers', 'max-heap-mb', 'max-body-bytes', 'max-concurrency', 'mongodb-uri', 'log-format', 'access-token-ttl', 'refresh-token-ttl', 'signing-key-file'],
  repeatable: ['mongodb-uri'],
  booleans: ['no-supervisor', 'no-freeze-intrinsics'],
};

/** data source name -> connection string, from --mongodb-uri name=uri and ATRIUM_MONGODB_URI_<NAME>. */
export function mongodbUris(app: AppDefinition, given: readonly string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  const names = new Set(['mongodb-atlas', ...app.dataSources.map((d) => d.name)]);
  for (const name of names) {
    const envName = `ATRIUM_MONGODB_URI_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
    const v = env[envName] ?? env[`ATRIUM_MONGODB_URI_${name}`];
    if (v) out[name] = v;
  }
  for (const pair of given) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--mongodb-uri expects <data source name>=<connection string>, got "${pair}"`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

export async function runServe(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, SERVE_FLAGS);
  if (args.flags.has('help')) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  const appDirArg = args.positionals[0];
  if (!appDirArg || args.positionals.length > 1) throw new UsageError('serve needs exactly one <appDir>; see `atrium serve --help`');
  const host = flag(args, 'host') ?? '127.0.0.1';
  const port = intFlag(args, 'port', 8080, 0);
  if (process.env[SUPERVISED_ENV] !== '1' && !args.flags.has('no-supervisor')) return superviseServe(argv, host, port);
  const appDir = path.resolve(appDirArg);
  const dataDir = path.resolve(flag(args, 'data-dir') ?? '.atrium');
  const logFormat = flag(args, 'log-format') ?? 'json';
  if (logFormat !== 'json' && logFormat !== 'none') throw new UsageError('--log-format must be json or none');

  const secrets = collectSecrets({ file: flag(args, 'secrets'), env: process.env });
  const app = loadApp(appDir, { secrets });
  let errors = 0;
  for (const p of app.problems) {
    if (p.level === 'error') errors++;
    process.stderr.write(formatProblem(p) + '\n');
  }

  const uris = mongodbUris(app, args.flags.get('mongodb-uri') ?? [], process.env);
  for (const line of await ensureConfiguredIndexes(app, dataDir, uris)) process.stderr.write(`warning: ${line}\n`);
  // A cluster that cannot be reached is reported now; its requests then fail with the same clear error, never hang.
  await Promise.all(
    Object.entries(uris).map(([name, uri]) =>
      checkMongoConnection(uri, name).catch((err: unknown) => process.stderr.write(`error: data source "${name}": ${err instanceof Error ? err.message : String(err)}\n`)),
    ),
  );
  const dependenciesDir = await ensureDependencies(app, dataDir, (line) => process.stderr.write(line + '\n'));
  // V8 flags are process-wide, so this reaches the function workers too. Under load, allocation-site pretenuring
  // sometimes decided that per-invocation objects live long (many are in flight at each scavenge) and allocated
  // them in the old generation: a worker then spent ~5x longer per scavenge plus a mark-compact every ~150 ms,
  // and throughput fell by a fifth (1 run in 3 with `wrk -t1 -c64` on the bench app, seen with --trace-gc-nvp).
  v8.setFlagsFromString('--no-allocation-site-pretenuring');
  const pool = new FunctionPool(app, {
    // One core is left to the HTTP thread: on 2 cores, 1 worker gave ~41 % of raw node:http vs ~37 % with 2
    // (npm run bench --only b, 4 alternating runs), and a lower p99.
    workers: intFlag(args, 'workers', Math.max(1, os.availableParallelism() - 1), 1),
    functionTimeoutMs: intFlag(args, 'function-timeout-ms', 300_000, 1),
    maxHeapMb: intFlag(args, 'max-heap-mb', 350, 16),
    dataDir,
    mongodbUris: uris,
    maxConcurrency: intFlag(args, 'max-concurrency', DEFAULT_MAX_CONCURRENCY, 1),
    dependenciesDir,
    freezeIntrinsics: !args.flags.has('no-freeze-intrinsics'),
  });
  await pool.start();
  const logs = new LogStore({ sink: logFormat === 'none' ? null : (text) => process.stdout.write(text) });
  const keyFile = flag(args, 'signing-key-file');
  const { auth, close: closeAuth, warnings } = await createEndpointAuth(app, pool, {
    dataDir,
    mongodbUris: uris,
    // The key is read from a file so it never appears in the process list.
    signingKey: keyFile ? fs.readFileSync(path.resolve(keyFile), 'utf8').trim() : undefined,
    accessTokenTtlSec: intFlag(args, 'access-token-ttl', 1800, 60),
    refreshTokenTtlSec: intFlag(args, 'refresh-token-ttl', 60 * 24 * 3600, 60),
  });
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  const server = await startServer({
    app,
    invoker: pool,
    logs,
    auth,
    host,
    port,
    maxBodyBytes: intFlag(args, 'max-body-bytes', DEFAULT_MAX_BODY_BYTES, 1),
    maxConcurrency: intFlag(args, 'max-concurrency', DEFAULT_MAX_CONCURRENCY, 1),
  });

  const base = `${server.url}/app/${app.appId}/endpoint`;
  const lines = [`Atrium serving app "${app.name}" (${app.appId}) at ${base} (pid ${process.pid})`];
  for (const ep of app.endpoints) {
    const fn = app.functions[ep.functionName];
    const authMode = !fn ? 'function missing' : fn.runAsSystem ? 'system' : fn.runAsUserId ? `user ${fn.runAsUserId}` : fn.runAsUserIdScriptSource ? 'script' : 'application auth';
    const state = ep.disabled ? ' (disabled)' : '';
    lines.push(`  ${ep.httpMethod.padEnd(6)} ${base}${ep.route}  [${authMode}; ${ep.validationMethod}]${state}`);
  }
  if (errors > 0) lines.push(`${errors} problem(s) found in the app; the endpoints they affect answer errors, the rest are served.`);
  process.stderr.write(lines.join('\n') + '\n');
  notifySupervisor();

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`atrium: ${signal} received, finishing in-flight requests\n`);
    void server
      .close()
      .then(() => pool.close())
      .then(() => closeAuth())
      .then(() => process.exit(0), (err: unknown) => {
        process.stderr.write(`atrium: error while stopping: ${String(err)}\n`);
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return -1; // keep running
}
