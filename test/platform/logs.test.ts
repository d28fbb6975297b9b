// The request log ring: records found by id while recent, shown with an ISO time, evicted past the capacity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogStore, type LogRecord } from '../../src/platform/logs';

function record(store: LogStore, route: string): LogRecord {
  return { id: store.newId(), at: Date.UTC(2026, 10, 27, 9, 30, 0, 5), type: 'endpoint', method: 'GET', route, status: 200, ms: 1.5 };
}

test('a record is found by its id and shown with an ISO time', () => {
  const store = new LogStore({ sink: null, capacity: 8 });
  const r = record(store, '/hello');
  store.add(r);
  const view = store.get(r.id);
  assert.ok(view);
  assert.equal(view.time, '2026-11-27T09:30:00.005Z');
  assert.equal(view.route, '/hello');
  assert.equal('at' in view, false);
  assert.equal(store.get(r.id.slice(0, -1) + 'f'), undefined);
  assert.equal(store.get('not-an-id'), undefined);
});

test('records older than the capacity are gone; newer ones stay', () => {
  const store = new LogStore({ sink: null, capacity: 4, successCapacity: 4 });
  const all = Array.from({ length: 10 }, (_, i) => record(store, `/r${i}`));
  for (const r of all) store.add(r);
  for (const r of all.slice(0, 6)) assert.equal(store.get(r.id), undefined, r.route);
  for (const r of all.slice(6)) assert.equal(store.get(r.id)?.route, r.route);
});

test('failures are kept longer than successes', () => {
  const store = new LogStore({ sink: null, capacity: 8, successCapacity: 2 });
  const failed = { ...record(store, '/broken'), status: 500, error_code: 'FunctionExecutionError', error: 'boom' };
  store.add(failed);
  const ok = Array.from({ length: 6 }, (_, i) => record(store, `/ok${i}`));
  for (const r of ok) store.add(r);
  assert.equal(store.get(failed.id)?.error_code, 'FunctionExecutionError');
  assert.equal(store.get(ok[0].id), undefined);
  assert.equal(store.get(ok[5].id)?.route, '/ok5');
});

test('records added out of order (a slow request) are still found', () => {
  const store = new LogStore({ sink: null, capacity: 16 });
  const slow = record(store, '/slow');
  const fast = record(store, '/fast');
  store.add(fast);
  store.add(slow);
  assert.equal(store.get(slow.id)?.route, '/slow');
  assert.equal(store.get(fast.id)?.route, '/fast');
});

test('the sink gets one JSON line per record, with the time', async () => {
  const lines: string[] = [];
  const store = new LogStore({ sink: (text) => lines.push(...text.trimEnd().split('\n')), capacity: 4 });
  store.add(record(store, '/a'));
  store.add(record(store, '/b'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(lines.map((l) => (JSON.parse(l) as { route: string; time: string }).route), ['/a', '/b']);
  assert.equal((JSON.parse(lines[0]) as { time: string }).time, '2026-11-27T09:30:00.005Z');
});
