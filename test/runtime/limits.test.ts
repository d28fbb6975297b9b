// Time, memory and async-work limits, worker crashes and recovery: a runaway invocation fails alone while
// other invocations keep being answered. Real worker threads, small limits.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { FunctionPool, InvocationResult } from '../../src/runtime';
import { bodyJSON, call, endpoint, makeApp, sleep, startPool, waitUntil } from './helpers';

const functions = {
  quick: `exports = function (req) { return { ok: true }; }`,
  syncLoop: `exports = function () { while (true) {} }`,
  loopAfterAwait: `exports = async function () { await context.functions.execute('tick'); while (true) {} }`,
  loopAfterAwaitNull: `exports = async function () { await null; while (true) {} }`,
  quickAsync: `exports = async function () { await null; await Promise.resolve(); return { ok: true }; }`,
  tick: `exports = async function () { await new Promise((r) => setTimeout(r, 1)); return 1; }`,
  executeChain: `exports = async function () { return await context.functions.execute('chainA'); }`,
  chainA: { source: `exports = async function () { return await context.functions.execute('chainB'); }`, private: true },
  chainB: { source: `exports = async function () { await null; for (;;) {} }`, private: true },
  hang: `exports = function () { return new Promise(() => {}); }`,
  busy: `exports = function () { const end = Date.now() + 300; while (Date.now() < end) {} return 'done'; }`,
  getterLoop: `exports = function () { return { get trap() { for (;;) {} } }; }`,
  recursion: `exports = function () { const f = (n) => f(n + 1) + 1; return f(0); }`,
  slow: `exports = async function (req) { await new Promise((r) => setTimeout(r, Number(req.query.ms || 150))); return { slept: true }; }`,
  manyPending: `exports = async function () { const ps = []; for (let i = 0; i < 1500; i++) ps.push(new Promise((r) => setTimeout(r, 50))); await Promise.all(ps); return 'finished'; }`,
  nineHundredTimers: `exports = async function () { const ps = []; for (let i = 0; i < 900; i++) ps.push(new Promise((r) => setTimeout(() => r(i), 20))); return (await Promise.all(ps)).length; }`,
  manySequential: `exports = async function () { let n = 0; for (let i = 0; i < 3000; i++) { n += await Promise.resolve(1); } const all = await Promise.all(Array.from({ length: 900 }, async (_, i) => i)); return n + all.length; }`,
  rejects: `exports = async function () {
    Promise.reject(new Error('nobody handles me'));
    setTimeout(() => { throw new Error('thrown in a timer'); }, 1);
    await new Promise((r) => setTimeout(r, 20));
    return 'survived';
  }`,
  leavesInterval: `exports = function () { setInterval(() => console.log('still running'), 5); setTimeout(() => console.log('late'), 30); return 'done'; }`,
};

async function succeedWhile(pool: FunctionPool, pending: Promise<InvocationResult>): Promise<number> {
  // Keeps calling a quick function until `pending` settles; every call must succeed.
  let done = false;
  void pending.then(() => (done = true));
  // Not in the same batch as the culprit: a result finished in the same microtask run as a loop that then
  // blocks the worker never gets posted, and is answered as "stopped" (see docs of the pool).
  await sleep(20);
  let count = 0;
  while (!done) {
    const r = await pool.invoke(endpoint('quick'));
    assert.equal(r.error, undefined, `a concurrent invocation failed: ${JSON.stringify(r.error)}`);
    assert.deepEqual(bodyJSON(r), { ok: true });
    count++;
    await sleep(10);
  }
  return count;
}

describe('time limit', { timeout: 30_000 }, () => {
  let pool: FunctionPool;
  before(async () => {
    pool = await startPool(makeApp(functions), { workers: 2, functionTimeoutMs: 600 });
  });
  after(() => pool.close());

  for (const name of ['syncLoop', 'loopAfterAwait', 'executeChain']) {
    test(`${name}: ExecutionTimeLimitExceeded, the worker is replaced, concurrent invocations succeed`, async () => {
      await waitUntil(() => pool.stats().workers === 2, 'both workers are up');
      const restartsBefore = pool.stats().restarts;
      const culprit = pool.invoke(endpoint(name));
      const served = await succeedWhile(pool, culprit);
      const result = await culprit;
      assert.deepEqual(result.error, { code: 'ExecutionTimeLimitExceeded', message: 'execution time limit exceeded' });
      assert.ok(served > 3, `only ${served} concurrent invocations were answered`);
      await waitUntil(() => pool.stats().restarts === restartsBefore + 1, 'the stuck worker is replaced');
      assert.deepEqual(bodyJSON(await pool.invoke(endpoint('quick'))), { ok: true });
    });
  }

  test('a getter that loops while the result is encoded is stopped like any loop', async () => {
    await waitUntil(() => pool.stats().workers === 2, 'both workers are up');
    const culprit = pool.invoke(endpoint('getterLoop'));
    await succeedWhile(pool, culprit);
    assert.equal((await culprit).error?.code, 'ExecutionTimeLimitExceeded');
  });

  test('unbounded recursion fails that invocation only', async () => {
    const result = await pool.invoke(endpoint('recursion'));
    assert.equal(result.error?.code, 'FunctionExecutionError');
    assert.match(result.error?.message ?? '', /call stack/);
    assert.deepEqual(bodyJSON(await pool.invoke(endpoint('quick'))), { ok: true });
  });

  test('invocations arriving in the same batch as a loop right after `await null` are answered', async () => {
    for (let round = 0; round < 3; round++) {
      await waitUntil(() => pool.stats().workers === 2, 'both workers are up');
      const culprit = pool.invoke(endpoint('loopAfterAwaitNull'));
      const others = Array.from({ length: 12 }, (_, i) => pool.invoke(endpoint(i % 2 ? 'quick' : 'quickAsync')));
      for (const r of await Promise.all(others)) assert.deepEqual(bodyJSON(r), { ok: true }, `round ${round}`);
      assert.equal((await culprit).error?.code, 'ExecutionTimeLimitExceeded');
    }
  });

  test('an invocation waiting forever times out without stopping its worker or its neighbours', async () => {
    await waitUntil(() => pool.stats().workers === 2, 'both workers are up');
    const restartsBefore = pool.stats().restarts;
    const hang = pool.invoke(endpoint('hang'));
    await sleep(400);
    // These run on the same workers across `hang`'s deadline (600 ms) and must not notice it.
    const neighbours = [1, 2, 3, 4].map(() => pool.invoke(endpoint('slow', { rawQuery: 'ms=400' })));
    assert.equal((await hang).error?.code, 'ExecutionTimeLimitExceeded');
    for (const r of await Promise.all(neighbours)) assert.deepEqual(bodyJSON(r), { slept: true });
    await sleep(50);
    assert.equal(pool.stats().restarts, restartsBefore, 'no worker was killed for an idle invocation');
    const later = await Promise.all([1, 2, 3].map(() => pool.invoke(endpoint('slow', { rawQuery: 'ms=20' }))));
    for (const r of later) assert.deepEqual(bodyJSON(r), { slept: true });
  });

  test('invocations queued behind a blocked worker move to a free one', async () => {
    await waitUntil(() => pool.stats().workers === 2, 'both workers are up');
    // Posted in one batch: some land on the worker that then loops; they must be run by the other worker.
    const culprit = pool.invoke(endpoint('syncLoop'));
    const queued = Array.from({ length: 6 }, () => pool.invoke(endpoint('quick')));
    let culpritDone = false;
    void culprit.then(() => (culpritDone = true));
    const results = await Promise.all(queued);
    assert.equal(culpritDone, false, 'the queued invocations were answered before the loop was stopped');
    for (const r of results) assert.deepEqual(bodyJSON(r), { ok: true });
    assert.equal((await culprit).error?.code, 'ExecutionTimeLimitExceeded');
  });
});

describe('single worker', { timeout: 30_000 }, () => {
  test('when the only worker is blocked, the spare takes over the queue at once', async () => {
    const pool = await startPool(makeApp(functions), { workers: 1, functionTimeoutMs: 1500 });
    try {
      await waitUntil(() => (pool as unknown as { spares: Array<{ state: string }> }).spares.some((s) => s.state === 'ready'), 'the spare is up');
      const culprit = pool.invoke(endpoint('syncLoop'));
      let culpritDone = false;
      void culprit.then(() => (culpritDone = true));
      await sleep(20);
      const queued = [1, 2, 3].map(() => pool.invoke(endpoint('quick')));
      for (const r of await Promise.all(queued)) assert.deepEqual(bodyJSON(r), { ok: true });
      assert.equal(culpritDone, false, 'the queue was served while the loop still ran');
      assert.equal((await culprit).error?.code, 'ExecutionTimeLimitExceeded');
      assert.deepEqual(bodyJSON(await pool.invoke(endpoint('quick'))), { ok: true });
    } finally {
      await pool.close();
    }
  });

  test('a worker that was only busy is not killed; the extra worker goes back to being the spare', async () => {
    const pool = await startPool(makeApp(functions), { workers: 1, functionTimeoutMs: 3000 });
    try {
      type View = { slots: unknown[]; spares: Array<{ state: string }> };
      const view = pool as unknown as View;
      await waitUntil(() => view.spares.some((s) => s.state === 'ready'), 'the spare is up');
      const busy = pool.invoke(endpoint('busy'));
      await sleep(20);
      const queued = [1, 2].map(() => pool.invoke(endpoint('quick')));
      for (const r of await Promise.all(queued)) assert.deepEqual(bodyJSON(r), { ok: true });
      assert.equal(bodyJSON(await busy), 'done');
      await waitUntil(() => view.slots.length === 1 && view.spares.length === 1, 'one worker and one spare again');
      assert.equal(pool.stats().restarts, 0);
    } finally {
      await pool.close();
    }
  });

  test('without a spare, queued invocations wait for the replacement worker', async () => {
    const pool = await startPool(makeApp(functions), { workers: 1, functionTimeoutMs: 2000, spareWorkers: 0 });
    try {
      const culprit = pool.invoke(endpoint('syncLoop'));
      await sleep(1000);
      // Queued behind the loop; their deadlines fall after the loop's, when the replacement worker is up.
      const queued = [1, 2, 3].map(() => pool.invoke(endpoint('quick')));
      assert.equal((await culprit).error?.code, 'ExecutionTimeLimitExceeded');
      for (const r of await Promise.all(queued)) assert.deepEqual(bodyJSON(r), { ok: true });
    } finally {
      await pool.close();
    }
  });
});

describe('memory limit', { timeout: 30_000 }, () => {
  test('a memory bomb fails with a memory-limit error; other invocations keep succeeding', async () => {
    const pool = await startPool(
      makeApp({
        ...functions,
        bomb: `exports = async function () { await null; const keep = []; for (;;) keep.push(new Array(50000).fill(Math.random())); }`,
      }),
      { workers: 2, functionTimeoutMs: 20000, maxHeapMb: 64 },
    );
    try {
      const culprit = pool.invoke(endpoint('bomb'));
      const served = await succeedWhile(pool, culprit);
      const result = await culprit;
      assert.equal(result.error?.code, 'FunctionExecutionError');
      assert.equal(result.error?.message, 'memory limit of 64 MB exceeded');
      assert.ok(served >= 1);
      await waitUntil(() => pool.stats().restarts === 1, 'the worker is replaced');
      assert.deepEqual(bodyJSON(await pool.invoke(endpoint('quick'))), { ok: true });
    } finally {
      await pool.close();
    }
  });
});

describe('allocations the heap cap does not stop', { timeout: 30_000 }, () => {
  let pool: FunctionPool;
  before(async () => {
    pool = await startPool(
      makeApp({
        ...functions,
        buffers: `exports = async function () { await null; const kept = []; for (let i = 0; i < 8; i++) kept.push(Buffer.alloc(16 * 1024 * 1024, 1)); return kept.length; }`,
        someBuffers: `exports = function () { const kept = []; for (let i = 0; i < 4; i++) kept.push(Buffer.alloc(8 * 1024 * 1024, 1)); return kept.length; }`,
        bigArray: `exports = async function () { await null; return new Array(2 ** 28).fill({}).length; }`,
        bigMap: `exports = async function () { await null; const m = new Map(); for (let i = 0; ; i++) m.set(i, i); }`,
        typedArrays: `exports = async function () { const kept = []; for (let i = 0; i < 8; i++) { kept.push(new Uint8Array(16 * 1024 * 1024)); await new Promise((r) => setTimeout(r, 40)); } await new Promise((r) => setTimeout(r, 2000)); return kept.length; }`,
      }),
      { workers: 2, functionTimeoutMs: 10000, maxHeapMb: 64 },
    );
  });
  after(() => pool.close());

  for (const name of ['buffers', 'bigArray', 'bigMap']) {
    test(`${name}: refused with the memory-limit error; the worker lives on`, async () => {
      await waitUntil(() => pool.stats().workers === 2, 'both workers are up');
      const restarts = pool.stats().restarts;
      const culprit = pool.invoke(endpoint(name));
      await succeedWhile(pool, culprit);
      assert.deepEqual((await culprit).error, { code: 'FunctionExecutionError', message: 'memory limit of 64 MB exceeded' });
      assert.equal(pool.stats().restarts, restarts);
    });
  }

  test('Buffers under the cap are fine', async () => {
    assert.equal(bodyJSON(await pool.invoke(endpoint('someBuffers'))), 4);
  });

  test('typed arrays past the cap stop the worker with the memory-limit error', async () => {
    await waitUntil(() => pool.stats().workers === 2, 'both workers are up');
    const culprit = pool.invoke(endpoint('typedArrays'));
    await succeedWhile(pool, culprit);
    assert.deepEqual((await culprit).error, { code: 'FunctionExecutionError', message: 'memory limit of 64 MB exceeded' });
  });
});

describe('worker crash', { timeout: 30_000 }, () => {
  test('started invocations of a dead worker fail, unstarted ones run elsewhere, the worker is replaced', async () => {
    const pool = await startPool(makeApp(functions), { workers: 2, functionTimeoutMs: 3000 });
    try {
      await waitUntil(() => pool.stats().workers === 2, 'both workers are up');
      const slow = [1, 2, 3, 4].map(() => pool.invoke(endpoint('slow', { rawQuery: 'ms=400' })));
      type SlotView = { assigned: Map<number, unknown>; isStarted(p: unknown): boolean; worker: { terminate(): Promise<number> } };
      const slots = (pool as unknown as { slots: SlotView[] }).slots;
      await waitUntil(() => slots.every((s) => [...s.assigned.values()].every((p) => s.isStarted(p))), 'every invocation has started');
      // Kill one worker from outside, as a native crash would.
      const victim = slots.find((s) => s.assigned.size > 0);
      assert.ok(victim, 'a worker holds invocations');
      const held = victim.assigned.size;
      await victim.worker.terminate();
      const results = await Promise.all(slow);
      const crashed = results.filter((r) => r.error !== undefined);
      assert.equal(crashed.length, held);
      for (const r of crashed) {
        assert.deepEqual(r.error, { code: 'FunctionExecutionError', message: 'function worker crashed while this invocation was running' });
      }
      for (const r of results.filter((x) => !x.error)) assert.deepEqual(bodyJSON(r), { slept: true });
      await waitUntil(() => pool.stats().workers === 2, 'the crashed worker is replaced');
      const after = await Promise.all([1, 2, 3, 4].map(() => pool.invoke(endpoint('quick'))));
      for (const r of after) assert.deepEqual(bodyJSON(r), { ok: true });
    } finally {
      await pool.close();
    }
  });
});

describe('async work, rejections and timers', { timeout: 30_000 }, () => {
  let pool: FunctionPool;
  before(async () => {
    pool = await startPool(makeApp(functions), { workers: 1, functionTimeoutMs: 3000 });
  });
  after(() => pool.close());

  test('more than 1000 pending async operations fail the invocation', async () => {
    const result = await pool.invoke(endpoint('manyPending'));
    assert.deepEqual(result.error, { code: 'FunctionExecutionError', message: 'exceeded max async work queue size of 1000' });
    assert.deepEqual(bodyJSON(await pool.invoke(endpoint('quick'))), { ok: true });
  });

  test('many awaits in sequence and fewer than 1000 at once are fine', async () => {
    const result = await pool.invoke(call('manySequential'));
    assert.equal(result.error, undefined);
    const timers = await pool.invoke(endpoint('nineHundredTimers'));
    assert.equal(bodyJSON(timers), 900, 'a promise waiting on a timer is one piece of work');
  });

  test('unhandled rejections and exceptions thrown in timers are logged against the invocation; the worker survives', async () => {
    const result = await pool.invoke(endpoint('rejects'));
    assert.equal(result.error, undefined);
    assert.equal(bodyJSON(result), 'survived');
    assert.ok(result.logs.some((l) => l.includes('nobody handles me')), JSON.stringify(result.logs));
    assert.ok(result.logs.some((l) => l.includes('thrown in a timer')), JSON.stringify(result.logs));
    assert.equal(pool.stats().restarts, 0);
  });

  test('timers a function leaves behind are cancelled when it ends', async () => {
    const before = pool.stats().lateEvents;
    const result = await pool.invoke(endpoint('leavesInterval'));
    assert.equal(bodyJSON(result), 'done');
    await sleep(80);
    await pool.invoke(endpoint('quick')); // a round trip brings the worker's counters
    assert.equal(pool.stats().lateEvents, before, 'no callback of the ended invocation ran');
  });
});

describe('start', { timeout: 30_000 }, () => {
  test('a worker that cannot boot makes start() reject, and leaves no thread behind', async () => {
    // A BigInt value survives the hand-over to the thread but not the worker's JSON copy of values.
    const app = makeApp(functions, { values: { big: { n: 10n } } });
    await assert.rejects(startPool(app), /function workers cannot start: .*BigInt/);
  });
});

describe('close', { timeout: 30_000 }, () => {
  test('waits for in-flight invocations, then refuses new ones', async () => {
    const pool = await startPool(makeApp(functions), { workers: 1 });
    const inFlight = pool.invoke(endpoint('slow', { rawQuery: 'ms=100' }));
    assert.equal(pool.inFlight(), 1);
    const closed = pool.close();
    const refused = await pool.invoke(endpoint('quick'));
    assert.equal(refused.error?.code, 'InternalServerError');
    assert.deepEqual(bodyJSON(await inFlight), { slept: true });
    await closed;
    assert.equal(pool.inFlight(), 0);
  });
});
