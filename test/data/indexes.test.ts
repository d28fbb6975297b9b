// Secondary indexes: lookups on _id and indexed fields do not scan (asserted on the plan and on SQLite's own
// EXPLAIN QUERY PLAN), unique/sparse/multikey/compound behave like MongoDB, and indexed answers equal scans.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Decimal128, Long, ObjectId } from 'bson';
import { closeDataSources, DataError, ensureConfiguredIndexes } from '../../src/data';
import type { MongoCollection, MongoServiceClient } from '../../src/data';
import { openEmbeddedDataSource } from '../../src/data/embedded';
import { removeDir, systemClient, tempDataDir, testApp } from './helpers';

let dir: string;
let client: MongoServiceClient;
let n = 0;
const DB = 'ix';
const coll = (): MongoCollection => client.db(DB).collection(`c${++n}`);
const explain = (c: MongoCollection, filter: Record<string, unknown>) => openEmbeddedDataSource(dir, 'mongodb-atlas').explain({ db: DB, collection: c.collectionName }, filter);

before(() => {
  dir = tempDataDir();
  client = systemClient(dir);
});
after(async () => {
  await closeDataSources();
  removeDir(dir);
});

describe('index use', () => {
  let c: MongoCollection;
  before(async () => {
    c = coll();
    await c.insertMany(Array.from({ length: 2000 }, (_, i) => ({ _id: i, email: `u${i}@x`, age: i % 90, tags: [`t${i % 7}`, `g${i % 3}`], org: `o${i % 10}` })));
    await c.createIndex({ email: 1 }, { unique: true });
    await c.createIndex({ age: -1 });
    await c.createIndex({ tags: 1 });
    await c.createIndex({ org: 1, age: 1 });
  });

  it('_id equality and ranges use the _id key, never a scan', () => {
    for (const f of [{ _id: 5 }, { _id: { $in: [1, 2] } }, { _id: { $gt: 10, $lte: 20 } }]) {
      const e = explain(c, f);
      assert.match(e.plan, /^IDSCAN _id_/);
      assert.ok(e.sqlite.some((l) => /SEARCH docs USING INDEX docs_id \(cid=\? AND key>\? AND key<\?\)/.test(l)), e.sqlite.join('\n'));
    }
  });

  it('equality and ranges on indexed fields use the index, checked by SQLite too', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ email: 'u5@x' }, /IXSCAN email_1/],
      [{ age: { $gte: 30, $lt: 40 } }, /IXSCAN age_-1/],
      [{ tags: 't3' }, /IXSCAN tags_1/],
      [{ org: 'o3', age: { $gt: 50 } }, /IXSCAN org_1_age_1 \(org: eq, age: range\)/],
      [{ email: { $in: ['u1@x', 'u2@x'] }, age: 1 }, /IXSCAN email_1/],
      [{ $or: [{ email: 'u1@x' }, { _id: 7 }] }, /^OR \[IXSCAN email_1.*IDSCAN _id_/],
    ];
    for (const [f, re] of cases) {
      const e = explain(c, f);
      assert.match(e.plan, re, JSON.stringify(f));
      assert.ok(
        e.sqlite.some((l) => l.includes('SEARCH e USING PRIMARY KEY (iid=? AND k>? AND k<?)')) || /IDSCAN|^OR/.test(e.plan),
        e.sqlite.join('\n'),
      );
      assert.ok(!e.sqlite.some((l) => /^SCAN /.test(l)), `no SQLite table scan: ${e.sqlite.join('; ')}`);
    }
  });

  it('falls back to a scan when no index helps', () => {
    assert.equal(explain(c, { nope: 1 }).plan, 'COLLSCAN');
    assert.equal(explain(c, { email: /u1/ }).plan, 'COLLSCAN');
    assert.equal(explain(c, { $or: [{ email: 'a' }, { nope: 1 }] }).plan, 'COLLSCAN');
  });

  it('indexed answers equal a full scan for many filters', async () => {
    const plain = coll();
    const all = await c.find({}).toArray();
    await plain.insertMany(all);
    const filters: Array<Record<string, unknown>> = [
      { email: 'u77@x' },
      { age: { $gte: 10, $lt: 13 } },
      { age: { $lte: 2 } },
      { tags: 't3', age: { $gt: 80 } },
      { tags: { $in: ['t1', 'g2'] }, org: 'o1' },
      { tags: { $gt: 't5' } },
      { org: 'o3', age: { $gte: 30, $lte: 33 } },
      { org: { $in: ['o1', 'o2'] }, age: 5 },
      { $or: [{ email: 'u1@x' }, { _id: { $lt: 3 } }, { tags: 't6', age: 20 }] },
      { _id: { $gt: 1990 } },
      { age: { $in: [] } },
      { email: null },
      { age: 45, $and: [{ org: 'o5' }] },
    ];
    for (const f of filters) {
      const a = await c.find(f).sort({ _id: 1 }).toArray();
      const b = await plain.find(f).sort({ _id: 1 }).toArray();
      assert.deepEqual(a, b, JSON.stringify(f));
      assert.equal(await c.count(f), b.length);
    }
  });
});

describe('index semantics', () => {
  it('unique indexes refuse duplicates on insert and update, and creating one over duplicates fails cleanly', async () => {
    const c = coll();
    await c.createIndex({ email: 1 }, { unique: true });
    await c.insertOne({ email: 'a' });
    await assert.rejects(c.insertOne({ email: 'a' }), (e: unknown) => e instanceof DataError && e.code === 11000 && e.keyValue!.email === 'a' && /index: email_1/.test(e.message));
    const b = await c.insertOne({ email: 'b' });
    await assert.rejects(c.updateOne({ _id: b.insertedId }, { $set: { email: 'a' } }), /E11000/);
    assert.equal((await c.findOne({ _id: b.insertedId }))!.email, 'b', 'the failed update changed nothing');
    await c.insertOne({ other: 1 });
    await assert.rejects(c.insertOne({ other: 2 }), /dup key: \{ email: null \}/, 'missing counts as null');

    const d = coll();
    await d.insertMany([{ k: 1 }, { k: 1 }]);
    await assert.rejects(d.createIndex({ k: 1 }, { unique: true }), /E11000/);
    assert.deepEqual(
      (await d.indexes()).map((i) => i.name),
      ['_id_'],
      'the failed index was not kept',
    );
  });

  it('sparse unique indexes ignore documents without the field', async () => {
    const c = coll();
    await c.createIndex({ code: 1 }, { unique: true, sparse: true });
    await c.insertMany([{ a: 1 }, { a: 2 }, { code: 'x' }]);
    await assert.rejects(c.insertOne({ code: 'x' }), /E11000/);
    assert.equal(await c.count({ code: null }), 2, 'a null query cannot use the sparse index and still finds them');
    assert.notEqual(explain(c, { code: null }).plan.includes('code_1'), true);
  });

  it('multikey: one entry per array element; equal numbers of any BSON type share a key', async () => {
    const c = coll();
    await c.createIndex({ v: 1 });
    await c.insertMany([{ _id: 1, v: [1, 2, 3] }, { _id: 2, v: Long.fromNumber(2) }, { _id: 3, v: Decimal128.fromString('2.0') }, { _id: 4, v: 2.5 }]);
    assert.deepEqual((await c.find({ v: 2 }, { _id: 1 }).toArray()).map((d) => d._id).sort(), [1, 2, 3]);
    assert.deepEqual((await c.find({ v: { $gt: 2, $lt: 3 } }, { _id: 1 }).toArray()).map((d) => d._id).sort(), [1, 4], 'array elements may satisfy each bound separately');
    await c.updateOne({ _id: 1 }, { $pull: { v: 2 } });
    assert.deepEqual((await c.find({ v: 2 }, { _id: 1 }).toArray()).map((d) => d._id).sort(), [2, 3], 'entries follow updates');
    await c.deleteOne({ _id: 2 });
    assert.deepEqual((await c.find({ v: 2 }, { _id: 1 }).toArray()).map((d) => d._id), [3], 'entries follow deletes');
  });

  it('refuses parallel arrays in a compound index, like MongoDB', async () => {
    const c = coll();
    await c.createIndex({ a: 1, b: 1 });
    await c.insertOne({ a: [1], b: 1 });
    await assert.rejects(c.insertOne({ a: [1], b: [2] }), (e: unknown) => (e as DataError).code === 171);
  });

  it('createIndex is idempotent; a conflicting name or options is refused; dropIndex removes it', async () => {
    const c = coll();
    assert.equal(await c.createIndex({ a: 1 }), 'a_1');
    assert.equal(await c.createIndex({ a: 1 }), 'a_1');
    await assert.rejects(c.createIndex({ a: 1 }, { name: 'other' }), (e: unknown) => (e as DataError).code === 85);
    await assert.rejects(c.createIndex({ b: 1 }, { name: 'a_1' }), (e: unknown) => (e as DataError).code === 86);
    await assert.rejects(c.createIndex({ t: 'text' }), /not supported/);
    await c.dropIndex('a_1');
    assert.equal(explain(c, { a: 1 }).plan, 'COLLSCAN');
    await assert.rejects(c.dropIndex('_id_'), /cannot drop _id index/);
  });

  it('an index created by another connection (thread or process) is maintained by this one', async () => {
    const c = coll();
    await c.insertOne({ _id: 1, k: 'a' });
    // A second store handle on the same file, as another worker thread would have.
    const { EmbeddedStore } = await import('../../src/data/embedded/store');
    const { EmbeddedDataSource } = await import('../../src/data/embedded/source');
    const other = new EmbeddedDataSource('mongodb-atlas', new EmbeddedStore(path.join(dir, 'data', 'mongodb-atlas.sqlite')));
    await other.createIndex({ db: DB, collection: c.collectionName }, { key: { k: 1 } });
    await c.insertOne({ _id: 2, k: 'b' }); // through the first handle, whose cached catalog predates the index
    assert.match(explain(c, { k: 'b' }).plan, /IXSCAN k_1/);
    assert.deepEqual(await other.find({ db: DB, collection: c.collectionName }, { k: 'b' }, {}, {}), [{ _id: 2, k: 'b' }]);
    await other.close();
  });

  it('reads planned from stale metadata are redone: an index dropped or turned multikey elsewhere', async () => {
    const c = coll();
    await c.createIndex({ v: 1 });
    await c.insertMany([{ _id: 1, v: 5 }, { _id: 2, v: 7 }]);
    assert.match(explain(c, { v: 5 }).plan, /IXSCAN v_1/, 'this handle has cached the index');
    const { EmbeddedStore } = await import('../../src/data/embedded/store');
    const { EmbeddedDataSource } = await import('../../src/data/embedded/source');
    const other = new EmbeddedDataSource('mongodb-atlas', new EmbeddedStore(path.join(dir, 'data', 'mongodb-atlas.sqlite')));
    const ns = { db: DB, collection: c.collectionName };
    // Another connection turns the index multikey: a two-sided range must not be answered from one element.
    await other.insertMany(ns, [{ _id: 3, v: [1, 100] }], { ordered: true }, {});
    assert.deepEqual((await c.find({ v: { $gt: 4, $lt: 10 } }, { _id: 1 }).sort({ _id: 1 }).toArray()).map((d) => d._id), [1, 2, 3]);
    // Another connection drops the index and creates a different one with the same name.
    await other.dropIndex(ns, 'v_1');
    await other.createIndex(ns, { key: { w: 1 }, name: 'v_1' });
    assert.deepEqual((await c.find({ v: 5 }, { _id: 1 }).toArray()).map((d) => d._id), [1]);
    assert.equal(await c.count({ v: 7 }), 1);
    await other.close();
  });
});

describe('configured indexes (indexes.json)', () => {
  it('creates the indexes declared next to the rules, and reports bad files clearly', async () => {
    const appDir = tempDataDir('atrium-app-');
    const ds = path.join(appDir, 'data_sources', 'mongodb-atlas');
    fs.mkdirSync(path.join(ds, 'shop', 'items'), { recursive: true });
    fs.writeFileSync(path.join(ds, 'config.json'), JSON.stringify({ name: 'mongodb-atlas', type: 'mongodb-atlas' }));
    fs.writeFileSync(path.join(ds, 'shop', 'items', 'indexes.json'), JSON.stringify([{ key: { sku: 1 }, unique: true }, { key: { cat: 1, price: -1 }, name: 'by_cat' }]));
    const app = testApp([{ name: 'mongodb-atlas', type: 'mongodb-atlas', config: {}, definedIn: 'data_sources/mongodb-atlas/config.json', collections: {} }], appDir);
    const dataDir = tempDataDir();
    assert.deepEqual(await ensureConfiguredIndexes(app, dataDir), []);
    const items = systemClient(dataDir).db('shop').collection('items');
    assert.deepEqual(
      (await items.indexes()).map((i) => i.name),
      ['_id_', 'sku_1', 'by_cat'],
    );
    await items.insertOne({ sku: 'a' });
    await assert.rejects(items.insertOne({ sku: 'a' }), /E11000/);
    assert.deepEqual(await ensureConfiguredIndexes(app, dataDir), [], 'idempotent');
    assert.deepEqual(await ensureConfiguredIndexes(app, dataDir, { 'mongodb-atlas': 'mongodb://127.0.0.1:1' }), [], 'not applied to real clusters');

    fs.writeFileSync(path.join(ds, 'shop', 'items', 'indexes.json'), JSON.stringify([{ key: { sku: 'text' } }]));
    const problems = await ensureConfiguredIndexes(app, dataDir);
    assert.equal(problems.length, 1);
    assert.match(problems[0], /data_sources\/mongodb-atlas\/shop\/items\/indexes\.json.*must be 1 or -1/);
    removeDir(appDir);
    removeDir(dataDir);
  });
});

describe('ObjectId _id lookups', () => {
  it('find by ObjectId uses the _id key and skips evaluating the filter', async () => {
    const c = coll();
    const ids = (await c.insertMany(Array.from({ length: 50 }, (_, i) => ({ i })))).insertedIds as ObjectId[];
    assert.match(explain(c, { _id: ids[7] }).plan, /IDSCAN _id_ \(_id: eq\)/);
    assert.equal((await c.findOne({ _id: ids[7] }))!.i, 7);
    assert.equal(await c.findOne({ _id: new ObjectId() }), null);
  });
});
