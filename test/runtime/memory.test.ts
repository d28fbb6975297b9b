// Answered invocations must not stay referenced until the time limit expires (a leak of every request for 300 s).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { endpoint, makeApp, startPool } from './helpers';

test('answered invocations leave the deadline queue at once, even behind a slow one', async () => {
  const pool = await startPool(
    makeApp({
      fast: 'exports = () => ({ ok: true })',
      slow: 'exports = () => new Promise((r) => setTimeout(() => r({ slow: true }), 800))',
    }),
    { workers: 1, functionTimeoutMs: 300_000 },
  );
  try {
    for (let round = 0; round < 5; round++) {
      const results = await Promise.all(Array.from({ length: 500 }, () => pool.invoke(endpoint('fast'))));
      assert.ok(results.every((r) => r.status === 200 && !r.error));
    }
    assert.equal(pool.stats().trackedDeadlines, 0);
    // A slow invocation at the head of the queue: thousands answered behind it must not pile up.
    const slow = pool.invoke(endpoint('slow'));
    for (let round = 0; round < 10; round++) await Promise.all(Array.from({ length: 500 }, () => pool.invoke(endpoint('fast'))));
    assert.ok(pool.stats().trackedDeadlines < 2100, `tracked ${pool.stats().trackedDeadlines}`);
    assert.equal((await slow).status, 200);
    assert.equal(pool.stats().trackedDeadlines, 0);
  } finally {
    await pool.close();
  }
});
