// Rules through the real server: users log in with local-userpass, call an endpoint bound to an
// application-auth function that uses context.services.get("mongodb-atlas"), and get exactly what the
// rules in test/fixtures/apps/rules-app allow; a run_as_system function bypasses them.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EJSON, ObjectId } from 'bson';
import { FIXTURES, startAtrium } from '../helpers/server';
import type { RunningServer } from '../helpers/server';

const APP_DIR = path.join(FIXTURES, 'rules-app');
let srv: RunningServer;
const tokens: Record<string, string> = {};
const userIds: Record<string, string> = {};
const ids = { alice: new ObjectId(), bob: new ObjectId(), shared: new ObjectId() };

interface OpResult {
  ok: boolean;
  result?: any;
  message?: string;
  codeName?: string;
  ruleDetail?: string;
  system?: boolean;
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json', ...headers } });
  const text = await res.text();
  return { status: res.status, body: text ? EJSON.parse(text, { relaxed: true }) : null };
}

async function op(who: string | null, coll: string, method: string, args: unknown[], extra: Record<string, unknown> = {}): Promise<OpResult> {
  const route = who === null ? '/sysop' : '/op';
  const headers: Record<string, string> = who === null ? {} : { Authorization: `Bearer ${tokens[who]}` };
  const res = await fetch(`${srv.endpointBase}${route}`, { method: 'POST', body: EJSON.stringify({ coll, method, args, ...extra }), headers: { 'Content-Type': 'application/json', ...headers } });
  const text = await res.text();
  const body = EJSON.parse(text, { relaxed: true }) as OpResult & { error?: string };
  if (res.status !== 200) return { ok: false, message: body.error, codeName: `HTTP ${res.status}` };
  return body;
}

before(async () => {
  srv = await startAtrium(APP_DIR, { args: ['--workers', '1', '--log-format', 'none'] });
  const client = `${srv.url}/api/client/v2.0/app/${srv.appId}/auth/providers/local-userpass`;
  for (const name of ['alice', 'bob', 'admin']) {
    const email = `${name}@example.com`;
    assert.equal((await post(`${client}/register`, { email, password: `${name}-password-1` })).status, 201);
    const login = await post(`${client}/login`, { username: email, password: `${name}-password-1` });
    assert.equal(login.status, 200);
    tokens[name] = login.body.access_token;
    userIds[name] = login.body.user_id;
  }
  const seeded = await op(null, 'orders', 'insertMany', [
    [
      { _id: ids.alice, owner_id: userIds.alice, item: 'book', tags: ['a'], internal: 'margin' },
      { _id: ids.bob, owner_id: userIds.bob, item: 'lamp', internal: 'vip' },
      { _id: ids.shared, owner_id: 'carol', item: 'map', shared: true },
    ],
  ]);
  assert.ok(seeded.ok, seeded.message);
  assert.ok((await op(null, 'items', 'insertMany', [[{ name: 'pen', published: true, cost: 1 }, { name: 'draft', published: false, cost: 5 }]])).ok);
  assert.ok((await op(null, 'notes', 'insertOne', [{ text: 'hello' }])).ok);
});

after(async () => {
  await srv?.stop();
  if (srv) fs.rmSync(srv.dataDir, { recursive: true, force: true });
});

describe('rules through endpoints (application auth)', () => {
  test('a user reads only the documents a role gives them, without hidden fields', async () => {
    const r = await op('alice', 'orders', 'find', [{}]);
    assert.equal(r.ok, true, r.message);
    assert.equal(r.system, false);
    assert.deepEqual(r.result.map((d: { item: string }) => d.item).sort(), ['book', 'map']);
    const mine = r.result.find((d: { item: string }) => d.item === 'book');
    assert.equal(mine.internal, undefined);
    assert.deepEqual(mine.tags, ['a']);
    assert.equal((await op('alice', 'orders', 'findOne', [{ _id: ids.bob }])).result, null);
    assert.equal((await op('alice', 'orders', 'count', [{}])).result, 2);
  });

  test('a user cannot update or delete another user\'s document', async () => {
    assert.deepEqual((await op('alice', 'orders', 'updateOne', [{ _id: ids.bob }, { $set: { item: 'stolen' } }])).result, { matchedCount: 0, modifiedCount: 0 });
    assert.deepEqual((await op('alice', 'orders', 'deleteOne', [{ _id: ids.bob }])).result, { deletedCount: 0 });
    const b = await op(null, 'orders', 'findOne', [{ _id: ids.bob }]);
    assert.equal(b.result.item, 'lamp');
    // Bob can.
    assert.deepEqual((await op('bob', 'orders', 'updateOne', [{ _id: ids.bob }, { $set: { item: 'desk lamp' } }])).result, { matchedCount: 1, modifiedCount: 1 });
  });

  test('inserts denied by a role are refused with App Services\' message', async () => {
    const status = await op('alice', 'orders', 'insertOne', [{ owner_id: userIds.alice, item: 'pen', status: 'paid' }]);
    assert.deepEqual([status.ok, status.message], [false, 'insert not permitted']);
    assert.match(status.ruleDetail ?? '', /field "status"/);
    const notes = await op('alice', 'notes', 'insertOne', [{ text: 'x' }]);
    assert.deepEqual([notes.ok, notes.message], [false, 'insert not permitted'], 'default rule: insert false');
    assert.match(notes.ruleDetail ?? '', /default_rule\.json/);
    const ok = await op('alice', 'orders', 'insertOne', [{ owner_id: userIds.alice, item: 'pen', qty: 2 }]);
    assert.equal(ok.ok, true, ok.message);
  });

  test('a $push that touches a read-only field is refused', async () => {
    const r = await op('alice', 'orders', 'updateOne', [{ _id: ids.alice }, { $push: { tags: 'b' } }]);
    assert.deepEqual([r.ok, r.message], [false, 'update not permitted']);
    assert.match(r.ruleDetail ?? '', /roles\[1\] \("owner"\) gives no write permission on field "tags"/);
    const thrown = await op('alice', 'orders', 'updateOne', [{ _id: ids.alice }, { $push: { tags: 'b' } }], { rethrow: true });
    assert.equal(thrown.ok, false);
    assert.match(thrown.message ?? '', /update not permitted/);
    assert.deepEqual((await op(null, 'orders', 'findOne', [{ _id: ids.alice }])).result.tags, ['a']);
  });

  test('schema violations are refused with the path of the failing field', async () => {
    const r = await op('admin', 'orders', 'insertOne', [{ owner_id: 'x', item: 'y', address: { zip: 'abc' } }]);
    assert.equal(r.ok, false);
    assert.equal(r.codeName, 'SchemaValidationFailedWrite');
    assert.match(r.message ?? '', /address\.zip: Does not match pattern/);
    const u = await op('alice', 'orders', 'updateOne', [{ _id: ids.alice }, { $set: { qty: 0 } }]);
    assert.equal(u.codeName, 'SchemaValidationFailedWrite');
    assert.match(u.message ?? '', /qty: Must be greater than or equal to 1/);
    const n = await op('admin', 'notes', 'find', [{}]);
    assert.equal(n.result.length, 1);
  });

  test('filters are applied to the query and projection', async () => {
    const r = await op('alice', 'items', 'find', [{}]);
    assert.deepEqual(r.result, [{ _id: r.result[0]._id, name: 'pen', published: true }]);
  });

  test('aggregation refuses system-only stages and sees only readable documents', async () => {
    const out = await op('alice', 'orders', 'aggregate', [[{ $out: 'copy' }]]);
    assert.equal(out.ok, false);
    assert.match(out.message ?? '', /\$out aggregation stage is not allowed for application users/);
    const g = await op('alice', 'orders', 'aggregate', [[{ $group: { _id: null, n: { $sum: 1 } } }]]);
    assert.equal(g.result[0].n, 3, 'book, map and the pen alice inserted');
  });

  test('a system function bypasses rules and schema', async () => {
    const all = await op(null, 'orders', 'find', [{}]);
    assert.equal(all.system, true);
    assert.ok(all.result.length >= 4);
    assert.ok(all.result.some((d: { internal?: string }) => d.internal === 'vip'));
    const bad = await op(null, 'orders', 'insertOne', [{ owner_id: 'x', item: '', status: 'anything', address: { zip: 'abc' } }]);
    assert.equal(bad.ok, true, bad.message);
    const items = await op(null, 'items', 'find', [{}]);
    assert.equal(items.result.length, 2);
    assert.equal(items.result[0].cost, 1);
  });
});
