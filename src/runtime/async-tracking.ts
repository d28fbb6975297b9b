// Which invocation does a piece of asynchronous work belong to? AsyncLocalStorage carries the invocation
// through awaits, timers and host callbacks; V8 promise hooks tag every promise made during an invocation, so:
// - pending promises made by function code (plus its timers) are counted: past 1000 the invocation fails with
//   App Services' "exceeded max async work queue size of 1000";
// - an unhandled rejection can be logged against the invocation that created the promise;
// - the shared "running" word names the invocation whose code runs now (attributes heap exhaustion).
// Timers, queueMicrotask and nextTick given to functions are wrapped so that a callback that throws is logged
// against its invocation instead of reaching the worker's uncaughtException, and so that callbacks of an
// invocation that has ended never run.
import { AsyncLocalStorage } from 'node:async_hooks';
import { promiseHooks } from 'node:v8';
import { InvocationState, MAX_PENDING_ASYNC } from './invocation-state';

export const invocationStorage = new AsyncLocalStorage<InvocationState>();

const kInvocation = Symbol('atrium.invocation');
const kCounted = Symbol('atrium.counted');
const kTimerOwner = Symbol('atrium.timerOwner');

interface TaggedPromise {
  [kInvocation]?: InvocationState;
  [kCounted]?: true;
}

export interface AsyncTrackingOptions {
  /** True for promises made by function code (the sandbox realm's Promise), the ones that count. */
  isFunctionPromise(promise: Promise<unknown>): boolean;
  /** Called once per invocation, from inside a promise hook: must not create promises. */
  onOverflow(inv: InvocationState): void;
  setRunning(invocationId: number): void;
}

export function installAsyncTracking(opts: AsyncTrackingOptions): void {
  promiseHooks.onInit((promise) => {
    const inv = invocationStorage.getStore();
    if (inv === undefined) return;
    const tagged = promise as TaggedPromise;
    tagged[kInvocation] = inv;
    if (!opts.isFunctionPromise(promise)) return;
    tagged[kCounted] = true;
    if (++inv.pending > MAX_PENDING_ASYNC && !inv.overflowed) {
      inv.overflowed = true;
      opts.onOverflow(inv);
    }
  });
  promiseHooks.onSettled((promise) => {
    const tagged = promise as TaggedPromise;
    if (tagged[kCounted] === true) (tagged[kInvocation] as InvocationState).pending--;
  });
  promiseHooks.onBefore((promise) => {
    const inv = (promise as TaggedPromise)[kInvocation];
    if (inv !== undefined) opts.setRunning(inv.id);
  });
}

/** The invocation that created a promise, if it was created while one was running. */
export function promiseOwner(promise: unknown): InvocationState | undefined {
  if (typeof promise !== 'object' || promise === null) return undefined;
  return (promise as TaggedPromise)[kInvocation];
}

type Callback = (...args: unknown[]) => unknown;
type UncaughtHandler = (inv: InvocationState, error: unknown) => void;

export interface FunctionTimers {
  setTimeout(callback: unknown, delay?: unknown, ...args: unknown[]): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(callback: unknown, delay?: unknown, ...args: unknown[]): unknown;
  clearInterval(handle: unknown): void;
  setImmediate(callback: unknown, ...args: unknown[]): unknown;
  clearImmediate(handle: unknown): void;
  queueMicrotask(callback: unknown): void;
  nextTick(callback: unknown, ...args: unknown[]): void;
}

export function createFunctionTimers(onUncaught: UncaughtHandler, setRunning: (id: number) => void): FunctionTimers {
  const hostSetTimeout = globalThis.setTimeout;
  const hostClearTimeout = globalThis.clearTimeout;
  const hostSetInterval = globalThis.setInterval;
  const hostClearInterval = globalThis.clearInterval;
  const hostSetImmediate = globalThis.setImmediate;
  const hostClearImmediate = globalThis.clearImmediate;
  const hostQueueMicrotask = globalThis.queueMicrotask;
  const hostNextTick = process.nextTick.bind(process);

  const fire = (inv: InvocationState, callback: Callback, args: unknown[]): void => {
    if (inv.ended) return;
    setRunning(inv.id);
    try {
      Reflect.apply(callback, undefined, args);
    } catch (err) {
      onUncaught(inv, err);
    }
  };
  const owned = (handle: unknown): InvocationState | undefined =>
    typeof handle === 'object' && handle !== null ? (handle as { [kTimerOwner]?: InvocationState })[kTimerOwner] : undefined;
  const track = (inv: InvocationState, handle: object, clear: (h: unknown) => void): void => {
    (handle as { [kTimerOwner]?: InvocationState })[kTimerOwner] = inv;
    inv.addTimer(handle, clear);
  };
  const clearTimeoutHost = (h: unknown): void => hostClearTimeout(h as NodeJS.Timeout);
  const clearIntervalHost = (h: unknown): void => hostClearInterval(h as NodeJS.Timeout);
  const clearImmediateHost = (h: unknown): void => hostClearImmediate(h as NodeJS.Immediate);
  const inert = (): NodeJS.Timeout => {
    const handle = hostSetTimeout(() => undefined, 0);
    hostClearTimeout(handle);
    return handle;
  };

  return {
    setTimeout(callback, delay, ...args) {
      const cb = requireCallback(callback);
      const inv = invocationStorage.getStore();
      if (inv === undefined) return hostSetTimeout(cb, delay as number, ...args);
      if (inv.ended) return inert();
      const handle: NodeJS.Timeout = hostSetTimeout(() => {
        inv.removeTimer(handle);
        fire(inv, cb, args);
      }, delay as number);
      track(inv, handle, clearTimeoutHost);
      return handle;
    },
    clearTimeout(handle) {
      owned(handle)?.removeTimer(handle);
      clearTimeoutHost(handle);
    },
    setInterval(callback, delay, ...args) {
      const cb = requireCallback(callback);
      const inv = invocationStorage.getStore();
      if (inv === undefined) return hostSetInterval(cb, delay as number, ...args);
      if (inv.ended) return inert();
      const handle = hostSetInterval(() => fire(inv, cb, args), delay as number);
      track(inv, handle, clearIntervalHost);
      return handle;
    },
    clearInterval(handle) {
      owned(handle)?.removeTimer(handle);
      clearIntervalHost(handle);
    },
    setImmediate(callback, ...args) {
      const cb = requireCallback(callback);
      const inv = invocationStorage.getStore();
      if (inv === undefined) return hostSetImmediate(cb, ...args);
      if (inv.ended) return inert();
      const handle: NodeJS.Immediate = hostSetImmediate(() => {
        inv.removeTimer(handle);
        fire(inv, cb, args);
      });
      track(inv, handle, clearImmediateHost);
      return handle;
    },
    clearImmediate(handle) {
      owned(handle)?.removeTimer(handle);
      clearImmediateHost(handle);
    },
    queueMicrotask(callback) {
      const cb = requireCallback(callback);
      const inv = invocationStorage.getStore();
      if (inv === undefined) return hostQueueMicrotask(cb);
      hostQueueMicrotask(() => fire(inv, cb, []));
    },
    nextTick(callback, ...args) {
      const cb = requireCallback(callback);
      const inv = invocationStorage.getStore();
      if (inv === undefined) return hostNextTick(cb, ...args);
      hostNextTick(() => fire(inv, cb, args));
    },
  };
}

function requireCallback(callback: unknown): Callback {
  if (typeof callback !== 'function') throw new TypeError(`The "callback" argument must be of type function. Received ${typeof callback}`);
  return callback as Callback;
}
