// Which invocation does a piece of asynchronous work belong to? A worker runs many invocations interleaved,
// so the runtime keeps a "current invocation": set while an invocation's code runs synchronously (its start,
// its timer callbacks) and, through V8 promise hooks, around every promise reaction (await continuation,
// then-callback) of a promise created while it was current. That is what AsyncLocalStorage does, without the
// async_hooks machinery, which cost about as much as the whole rest of a small invocation.
// With it:
// - pending promises made by function code (not those derived by then()) are counted: past 1000 the
//   invocation fails with App Services' "exceeded max async work queue size of 1000";
// - an unhandled rejection is logged against the invocation that created the promise;
// - the shared "running" word names the invocation whose code runs now (attributes heap exhaustion).
// Callbacks that reach function code without a promise or a timer of ours (an npm library's event emitter)
// run with no current invocation: their timers and promises are not tracked.
import { promiseHooks } from 'node:v8';
import { InvocationState, MAX_PENDING_ASYNC } from './invocation-state';

const kInvocation = Symbol('atrium.invocation');
const kCounted = Symbol('atrium.counted');
const kTimerOwner = Symbol('atrium.timerOwner');

interface TaggedPromise {
  [kInvocation]?: InvocationState;
  [kCounted]?: true;
}

let current: InvocationState | undefined;

/** The invocation whose code is running now, if any. */
export function currentInvocation(): InvocationState | undefined {
  return current;
}

/** Runs `fn` with `inv` as the current invocation. */
export function runAs<T>(inv: InvocationState | undefined, fn: () => T): T {
  const previous = current;
  current = inv;
  try {
    return fn();
  } finally {
    current = previous;
  }
}

export interface AsyncTrackingOptions {
  /** True for promises made by function code (the sandbox realm's Promise), the ones that count. */
  isFunctionPromise(promise: Promise<unknown>): boolean;
  /** Called once per invocation, from inside a promise hook: must not create promises. */
  onOverflow(inv: InvocationState): void;
  setRunning(invocationId: number): void;
}

export function installAsyncTracking(opts: AsyncTrackingOptions): void {
  promiseHooks.createHook({
    init(promise, parent) {
      const inv = current ?? (parent as TaggedPromise | undefined)?.[kInvocation];
      if (inv === undefined) return;
      const tagged = promise as TaggedPromise;
      tagged[kInvocation] = inv;
      // Only new work counts: a promise derived by then() (Promise.all makes one per element) waits on another.
      if (parent !== undefined || !opts.isFunctionPromise(promise)) return;
      tagged[kCounted] = true;
      if (++inv.pending > MAX_PENDING_ASYNC && !inv.overflowed) {
        inv.overflowed = true;
        opts.onOverflow(inv);
      }
    },
    before(promise) {
      const inv = (promise as TaggedPromise)[kInvocation];
      current = inv;
      if (inv !== undefined) opts.setRunning(inv.id);
    },
    after() {
      current = undefined;
    },
    settled(promise) {
      const tagged = promise as TaggedPromise;
      if (tagged[kCounted] === true) (tagged[kInvocation] as InvocationState).pending--;
    },
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
    const previous = current;
    current = inv;
    try {
      Reflect.apply(callback, undefined, args);
    } catch (err) {
      onUncaught(inv, err);
    } finally {
      current = previous;
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
      const inv = current;
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
      const inv = current;
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
      const inv = current;
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
      const inv = current;
      if (inv === undefined) return hostQueueMicrotask(cb);
      hostQueueMicrotask(() => fire(inv, cb, []));
    },
    nextTick(callback, ...args) {
      const cb = requireCallback(callback);
      const inv = current;
      if (inv === undefined) return hostNextTick(cb, ...args);
      hostNextTick(() => fire(inv, cb, args));
    },
  };
}

function requireCallback(callback: unknown): Callback {
  if (typeof callback !== 'function') throw new TypeError(`The "callback" argument must be of type function. Received ${typeof callback}`);
  return callback as Callback;
}
