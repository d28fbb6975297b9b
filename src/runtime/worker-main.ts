// Entry point of a function worker thread. Boot order matters:
// 1. load every module Atrium itself needs (native ones included) while `process.dlopen` still works;
// 2. build the globals handed to functions, and freeze them;
// 3. harden the thread's real `process` and freeze this realm's intrinsics;
// 4. create the app's sandbox (its own realm, frozen too), install async tracking, then say "ready".
import { workerData } from 'node:worker_threads';
import { Binary as BsonBinary } from 'bson';
import '../data';
import { createBSONGlobal, createEJSONGlobal } from './globals/bson';
import { createUtilsGlobal } from './globals/utils';
import { createHttpClient } from './globals/http-client';
import { createFunctionRequire } from './modules';
import { createFunctionConsole } from './console-capture';
import { sharedContextParts } from './context-object';
import { freezeExposed } from './freeze';
import { FunctionRunner } from './function-runner';
import { HTTPResponse } from './http-response';
import { lockdownRealm } from './lockdown';
import { MemoryGuard } from './memory-guards';
import { createProcessStandIn, hardenWorkerProcess } from './process-standin';
import { Sandbox } from './sandbox';
import { ResultRing } from './result-ring';
import { SharedState } from './shared-state';
import { createFunctionTimers, currentInvocation, installAsyncTracking, promiseOwner } from './async-tracking';
import { thrownMessage } from './errors';
import type { InvocationState } from './invocation-state';
import type { FromWorker, WorkerBoot } from './wire';
import { WorkerLoop } from './worker-loop';

const HEARTBEAT_MS = 10;
const MEMORY_CHECK_EVERY_BEATS = 10;

function preloadNativeModules(): void {
  // The embedded store's driver is a native addon; load it before dlopen is refused. Absent is fine.
  try {
    require('better-sqlite3');
  } catch {
    /* the data layer reports its own errors */
  }
}

function describe(err: unknown): string {
  const name = typeof err === 'object' && err !== null && typeof (err as { name?: unknown }).name === 'string' ? (err as { name: string }).name : '';
  const message = thrownMessage(err);
  return name && !message.startsWith(name) ? `${name}: ${message}` : message;
}

function boot(data: WorkerBoot): void {
  const shared = new SharedState(data.shared);
  const memory = new MemoryGuard(data.maxHeapMb);
  let beats = 0;
  shared.beat(Date.now());
  setInterval(() => {
    shared.beat(Date.now());
    // Memory outside the heap (typed arrays, ArrayBuffers) past the cap: let the pool stop this worker.
    if (++beats % MEMORY_CHECK_EVERY_BEATS === 0 && memory.externalOverCap()) shared.flagMemoryExceeded(shared.running());
  }, HEARTBEAT_MS);

  preloadNativeModules();
  let loop: WorkerLoop | undefined;
  const currentLog = (line: string): void => {
    const inv = currentInvocation();
    if (inv) inv.log(line);
    else if (loop) loop.counters.orphanErrors++;
  };
  const logUncaught = (inv: InvocationState, err: unknown): void => inv.log(`Uncaught exception in a callback: ${describe(err)}`);
  const timers = createFunctionTimers(logUncaught, (id) => shared.setRunning(id));
  // BSON, EJSON, utils and context.http harden themselves (bson keeps a few statics mutable for its own use),
  // so they are only frozen shallowly here; the Node-provided classes are frozen with what they expose.
  const bsonGlobal = createBSONGlobal();
  const appServicesGlobals: Record<string, unknown> = {
    BSON: Object.freeze(bsonGlobal),
    EJSON: Object.freeze(createEJSONGlobal()),
    utils: Object.freeze(createUtilsGlobal()),
  };
  const http = Object.freeze(createHttpClient());
  const nodeGlobals: Record<string, unknown> = {
    console: createFunctionConsole(currentLog),
    HTTPResponse,
    Buffer,
    URL,
    URLSearchParams,
    TextEncoder,
    TextDecoder,
    AbortController,
    AbortSignal,
    atob,
    btoa,
    structuredClone,
    setTimeout: timers.setTimeout,
    clearTimeout: timers.clearTimeout,
    setInterval: timers.setInterval,
    clearInterval: timers.clearInterval,
    setImmediate: timers.setImmediate,
    clearImmediate: timers.clearImmediate,
    queueMicrotask: timers.queueMicrotask,
    process: createProcessStandIn({ env: {}, cwd: data.app.dir, timers, write: currentLog }),
  };
  memory.guardBuffer(Buffer);
  for (const value of Object.values(nodeGlobals)) freezeExposed(value);
  const globals = { ...appServicesGlobals, ...nodeGlobals };

  hardenWorkerProcess();
  if (data.freezeIntrinsics) lockdownRealm({ neuterFunctionConstructors: true, enableConstructorOverride: true });

  const sandbox = new Sandbox(`atrium app ${data.app.appId}`, globals, data.maxHeapMb);
  const binaryClass = typeof bsonGlobal.Binary === 'function' ? (bsonGlobal.Binary as typeof BsonBinary) : BsonBinary;
  const runner = new FunctionRunner({
    app: data.app,
    sandbox,
    shared: sharedContextParts(data.app, data.deployedAt, http),
    require: createFunctionRequire({ appDir: data.app.dir, dependenciesDir: data.dependenciesDir }),
    makeBinary: (bytes) => new binaryClass(bytes, 0),
    dataDir: data.dataDir,
    mongodbUris: data.mongodbUris,
  });
  loop = new WorkerLoop(data.port, shared, new ResultRing(data.ring), runner);
  const workerLoop = loop;
  installAsyncTracking({
    isFunctionPromise: (p) => Object.getPrototypeOf(p) === sandbox.realm.promisePrototype,
    onOverflow: workerLoop.failForOverflow,
    setRunning: (id) => shared.setRunning(id),
  });

  process.on('uncaughtException', (err) => {
    const inv = currentInvocation();
    if (inv && !inv.ended) inv.log(`Uncaught exception: ${describe(err)}`);
    else workerLoop.counters.orphanErrors++;
  });
  process.on('unhandledRejection', (reason, promise) => {
    const inv = promiseOwner(promise);
    if (inv && !inv.ended) inv.log(`Unhandled promise rejection: ${describe(reason)}`);
    else if (inv) workerLoop.counters.lateEvents++;
    else workerLoop.counters.orphanErrors++;
  });

  workerLoop.listen();
  const ready: FromWorker = { t: 'ready' };
  data.port.postMessage(ready);
}

const data = workerData as WorkerBoot;
try {
  boot(data);
} catch (err) {
  const failed: FromWorker = { t: 'boot-failed', message: err instanceof Error ? err.stack ?? err.message : String(err) };
  data.port.postMessage(failed);
}
