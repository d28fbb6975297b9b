// `process` as functions see it (policies "What a function can reach"), and the hardening of the worker
// thread's real `process` as defense in depth for code that reaches it anyway (through a host object).
import type { FunctionTimers } from './async-tracking';

const REFUSED = [
  'exit', 'reallyExit', 'abort', 'kill', '_kill', 'chdir', 'setuid', 'setgid', 'seteuid', 'setegid', 'setgroups',
  'initgroups', 'dlopen', 'binding', '_linkedBinding', 'disconnect', 'send', '_debugProcess', '_debugEnd',
  'setUncaughtExceptionCaptureCallback', 'setSourceMapsEnabled', 'openStdin',
] as const;

function refused(name: string): () => never {
  return function () {
    throw new Error(`process.${name}() is not supported in functions`);
  };
}

export interface ProcessStandInOptions {
  /** The environment the app is given (Atrium gives none: {}), never the server's. */
  env: Record<string, string>;
  cwd: string;
  timers: FunctionTimers;
  /** Writes one line to the current invocation's log. */
  write(line: string): void;
}

export function createProcessStandIn(opts: ProcessStandInOptions): Record<string, unknown> {
  const real = process;
  const standIn: Record<string, unknown> = {};
  const self = (): Record<string, unknown> => standIn;
  const hrtime = (previous?: [number, number]): [number, number] => real.hrtime(previous);
  hrtime.bigint = (): bigint => real.hrtime.bigint();
  const memoryUsage = (): NodeJS.MemoryUsage => real.memoryUsage();
  memoryUsage.rss = (): number => real.memoryUsage.rss();
  const stream = { write: (chunk: unknown): boolean => (opts.write(String(chunk).replace(/\n$/, '')), true), isTTY: false };

  Object.assign(standIn, {
    env: Object.freeze({ ...opts.env }),
    argv: Object.freeze(['node']),
    execArgv: Object.freeze([]),
    version: real.version,
    versions: Object.freeze({ ...real.versions }),
    release: Object.freeze({ name: real.release.name }),
    platform: real.platform,
    arch: real.arch,
    title: 'atrium-function',
    pid: 0,
    ppid: 0,
    nextTick: opts.timers.nextTick,
    hrtime,
    memoryUsage,
    uptime: () => real.uptime(),
    cwd: () => opts.cwd,
    umask: (mask?: unknown) => {
      if (mask !== undefined) throw new Error('process.umask(mask) is not supported in functions');
      return 0o022;
    },
    emitWarning: (warning: unknown) => opts.write(`Warning: ${warning instanceof Error ? warning.message : String(warning)}`),
    stdout: Object.freeze({ ...stream }),
    stderr: Object.freeze({ ...stream }),
    // Event registration is accepted and ignored: functions cannot observe the server's process events.
    on: self, once: self, off: self, addListener: self, removeListener: self, removeAllListeners: self,
    prependListener: self, prependOnceListener: self,
    emit: () => false,
    listeners: () => [],
    listenerCount: () => 0,
  });
  for (const name of REFUSED) standIn[name] = refused(name);
  for (const value of Object.values(standIn)) if (typeof value === 'function') Object.freeze(value);
  return Object.freeze(standIn);
}

/**
 * Makes the worker thread's own `process` unable to stop, signal or reconfigure anything, and drops its
 * environment. Called once at worker start, after the modules Atrium itself needs (native ones included) are loaded.
 */
export function hardenWorkerProcess(): void {
  for (const name of REFUSED) {
    if (!(name in process)) continue;
    try {
      Object.defineProperty(process, name, { value: refused(name), writable: false, enumerable: false, configurable: false });
    } catch {
      /* a property node made non-configurable stays as it is */
    }
  }
}
