// Keeps `atrium serve` available when V8 aborts the whole process. A few failures inside a function's worker thread
// (a single allocation far past the heap cap inside a C++ builtin, an "invalid size" fatal error) end the process,
// not just the thread, and no thread-level limit can catch them. The supervisor runs the server in a child process
// and starts a new one on the same port when it dies after having served; requests that were in flight in the dead
// process fail, later ones are served by the new process.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';

export const SUPERVISED_ENV = 'ATRIUM_SUPERVISED';
const MAX_RESTARTS = 5;
/**
 * Node options of the server process. One V8 helper thread instead of four: every core already runs a JavaScript
 * thread (the HTTP thread and cores - 1 function workers), and scavenges that waited for helper threads which could
 * not get a core were the bench's latency tail (hello endpoint, wrk -t1 -c64, 2 cores, 2 interleaved rounds:
 * p99 7.1-7.4 ms with the default pool, 4.3-4.6 ms with one helper, throughput the same or better).
 * Left out when the user gives a pool size of their own (node options of `atrium`, or NODE_OPTIONS, which a
 * command-line option would otherwise override).
 */
export function serverNodeOptions(execArgv: readonly string[], nodeOptionsEnv: string | undefined): string[] {
  const own = [...execArgv, ...(nodeOptionsEnv ?? '').split(/\s+/)].some((o) => o.startsWith('--v8-pool-size'));
  return own ? [...execArgv] : ['--v8-pool-size=1', ...execArgv];
}
const RESTART_WINDOW_MS = 60_000;

/** Picks a concrete free port for `--port 0`, so that a restarted server keeps the address clients know. */
async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const port = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(port));
    });
  });
}

function withPort(argv: readonly string[], port: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--port') {
      i++;
      continue;
    }
    if (argv[i].startsWith('--port=')) continue;
    out.push(argv[i]);
  }
  return [...out, '--port', String(port)];
}

/** Tells the supervisor that the server is listening (no-op when not supervised). */
export function notifySupervisor(): void {
  if (process.env[SUPERVISED_ENV] === '1' && process.send) {
    process.send({ type: 'atrium-ready' });
    // Never outlive the supervisor (e.g. when it is killed with SIGKILL).
    process.on('disconnect', () => process.exit(1));
  }
}

export async function superviseServe(serveArgv: readonly string[], host: string, port: number): Promise<number> {
  const bin = path.resolve(__dirname, '..', '..', '..', 'bin', 'atrium.js');
  const fixedPort = port === 0 ? await freePort(host) : port;
  const argv = withPort(serveArgv, fixedPort);
  const restarts: number[] = [];
  let child: ChildProcess | null = null;
  let stopping = false;

  const forward = (signal: NodeJS.Signals): void => {
    stopping = true;
    child?.kill(signal);
  };
  process.on('SIGTERM', () => forward('SIGTERM'));
  process.on('SIGINT', () => forward('SIGINT'));

  for (;;) {
    let ready = false;
    child = spawn(process.execPath, [...serverNodeOptions(process.execArgv, process.env.NODE_OPTIONS), bin, 'serve', ...argv], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, [SUPERVISED_ENV]: '1' },
    });
    child.on('message', (m: unknown) => {
      if (m && typeof m === 'object' && (m as { type?: unknown }).type === 'atrium-ready') ready = true;
    });
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child!.once('exit', (c, s) => resolve({ code: c, signal: s })),
    );
    // A clean stop, a start-up failure (bad flags, broken app) or a stop we asked for: end with the server's code.
    if (stopping || !ready || code === 0) return code ?? 1;
    const now = Date.now();
    restarts.push(now);
    while (restarts.length > 0 && now - restarts[0] > RESTART_WINDOW_MS) restarts.shift();
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    if (restarts.length > MAX_RESTARTS) {
      process.stderr.write(`atrium: the server process died (${how}) ${restarts.length} times within a minute; giving up\n`);
      return 1;
    }
    process.stderr.write(`atrium: the server process died (${how}), probably from a function that exhausted V8; starting a new one\n`);
  }
}
