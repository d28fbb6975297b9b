// The App Services collection API (§11.3) against the embedded store: every method, option and result shape.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as vm from 'node:vm';
import { ObjectId } from 'bson';
import { BulkWriteError, closeDataSources, createServiceClient, DataError } from '../../src/data';
import type { MongoCollection, MongoServiceClient } from '../../src/data';
import { removeDir, systemClient, tempDataDir, testApp } from './helpers';

let dir: string;
let client: MongoServiceClient;
let n = 0;
/** A fresh collection per test. */
function coll(): MongoCollection {
  return client.db('crud').collection(`c${++n}`);
}

before(() => {
  dir = tempDataDir();
  client = systemClient(dir);
});
after(async () => {
  await closeDataSources();
  removeDir(dir);
});

describe('service client', () => {
  it('answers "mongodb-atlas" always, app data sources by name, and undefined otherwise', () => {
    const app = testApp([
      { name: 'Cluster0', type: 'mongodb-atlas', config: {}, definedIn: 'data_sources/Cluster0/config.json', collections: {} },
      { name: 'lake', type: 'datalake', config: {}, definedIn: 'data_sources/lake/config.json', collections: {} },
    ]);
    const identity = { user: null, runAsSystem: true };
    assert.ok(createServiceClient({ app, serviceName: 'mongodb-atlas', dataDir: dir, identity }));
    assert.ok(createServiceClient({ app, serviceName: 'Cluster0', dataDir: dir, identity }));
    assert.equal(createServiceClient({ app, serviceName: 'http', dataDir: dir, identity }), undefined);
    assert.equal(createServiceClient({ app, serviceName: 'cluster0', dataDir: dir, identity }), undefined);
  });

  it('refuses Data Federation sources with a clear error', async () => {
    const app = testApp([{ name: 'lake', type: 'datalake', config: {}, definedIn: 'x', collections: {} }]);
    const lake = createServiceClient({ app, serviceName: 'lake', dataDir: dir, identity: { user: null, runAsSystem: true } })!;
    await assert.rejects(lake.db('a').collection('b').findOne({}), /Data Federation/);
  });

  it('validates database and collection names', () => {
    assert.throws(() => client.db(''), /database name/);
    assert.throws(() => client.db('a.b'), /database name/);
    assert.throws(() => client.db('x').collection('a$b'), /collection name/);
    assert.throws(() => client.db('x').collection(42 as unknown as string), /collection name/);
  });

  it('lists collections and databases (system only)', async () => {
    const c = client.db('listing').collection('one');
    await c.insertOne({ a: 1 });
    await client.db('listing').collection('two').insertOne({ a: 1 });
    assert.deepEqual(await client.db('listing').getCollectionNames(), ['one', 'two']);
    assert.ok((await client.admin().getDBNames()).includes('listing'));
    const user = createServiceClient({ app: testApp(), serviceName: 'mongodb-atlas', dataDir: dir, identity: { user: null, runAsSystem: false } })!;
    await assert.rejects(user.db('listing').getCollectionNames(), /only available to functions that run as system/);
    await assert.rejects(user.db('listing').collection('one').createIndex({ a: 1 }), /run as system/);
  });
});

describe('insert', () => {
  it('insertOne returns {insertedId} and sets a generated _id on the document, like the driver', async () => {
    const c = coll();
    const doc: Record<string, unknown> = { name: 'a' };
    const r = await c.insertOne(doc);
    assert.deepEqual(Object.keys(r), ['insertedId']);
    assert.ok(r.insertedId instanceof ObjectId);
    assert.ok(doc._id instanceof ObjectId && doc._id.equals(r.insertedId as ObjectId));
    const stored = await c.findOne({ _id: r.insertedId });
    assert.deepEqual(Object.keys(stored!), ['_id', 'name'], '_id is stored first');
  });

  it('keeps a given _id of any scalar type and refuses duplicates with E11000', async () => {
    const c = coll();
    assert.deepEqual(await c.insertOne({ _id: 'k1', v: 1 }), { insertedId: 'k1' });
    assert.deepEqual(await c.insertOne({ _id: 7 }), { insertedId: 7 });
    await assert.rejects(c.insertOne({ _id: 'k1' }), (e: unknown) => e instanceof DataError && e.code === 11000 && /dup key: \{ _id: "k1" \}/.test(e.message));
    await assert.rejects(c.insertOne({ _id: 7.0 }), /E11000/, '7 and 7.0 are the same _id');
    await assert.rejects(c.insertOne({ _id: [1, 2] }), /array for _id/);
  });

  it('insertMany returns {insertedIds} in order; ordered stops at the first error, unordered continues', async () => {
    const c = coll();
    const r = await c.insertMany([{ _id: 1 }, { x: 2 }]);
    assert.equal(r.insertedIds.length, 2);
    assert.equal(r.insertedIds[0], 1);
    await assert.rejects(c.insertMany([{ _id: 2 }, { _id: 1 }, { _id: 3 }]), (e: unknown) => {
      assert.ok(e instanceof BulkWriteError);
      assert.equal(e.writeErrors.length, 1);
      assert.equal(e.writeErrors[0].index, 1);
      assert.deepEqual(e.insertedIds, { 0: 2 });
      return true;
    });
    assert.equal(await c.count({ _id: 3 }), 0, 'ordered: nothing after the failure');
    await assert.rejects(c.insertMany([{ _id: 4 }, { _id: 1 }, { _id: 5 }], { ordered: false }), (e: unknown) => e instanceof BulkWriteError && e.writeErrors.length === 1);
    assert.equal(await c.count({ _id: { $in: [4, 5] } }), 2, 'unordered: the rest went in');
    await assert.rejects(c.insertMany([]), /cannot be empty/);
    await assert.rejects(c.insertMany({} as unknown as unknown[]), /array/);
  });

  it('accepts documents built in another realm (a function sandbox)', async () => {
    const c = coll();
    const ctx = vm.createContext({});
    const doc = vm.runInContext('({ when: new Date(5), re: /ab+c/i, list: [1, {x: 2}], nested: {deep: {v: true}}, skip: undefined })', ctx) as Record<string, unknown>;
    await c.insertOne(doc);
    const back = await c.findOne({ when: vm.runInContext('new Date(5)', ctx) });
    assert.ok(back);
    assert.ok(back.when instanceof Date);
    assert.ok(back.re instanceof RegExp);
    assert.deepEqual(back.list, [1, { x: 2 }]);
    assert.ok(!('skip' in back), 'undefined fields are not stored');
  });
});

describe('find / findOne / cursors', () => {
  let c: MongoCollection;
  before(async () => {
    c = coll();
    await c.insertMany(Array.from({ length: 10 }, (_, i) => ({ _id: i, n: i, even: i % 2 === 0, tag: `t${i % 3}` })));
  });

  it('the second argument of find and findOne is a projection', async () => {
    assert.deepEqual(await c.find({ n: { $lt: 2 } }, { n: 1 }).toArray(), [
      { _id: 0, n: 0 },
      { _id: 1, n: 1 },
    ]);
    assert.deepEqual(await c.find({ n: 0 }, { _id: 0, tag: 1 }).toArray(), [{ tag: 't0' }]);
    assert.deepEqual(await c.findOne({ n: 3 }, { even: 1, _id: 0 }), { even: false });
    assert.deepEqual(await c.findOne({ n: 4 }, { even: 0, tag: 0 }), { _id: 4, n: 4 });
  });

  it('sort, skip and limit chain before the first read', async () => {
    const docs = await c.find({ even: true }).sort({ n: -1 }).skip(1).limit(2).toArray();
    assert.deepEqual(
      docs.map((d) => d.n),
      [6, 4],
    );
    assert.deepEqual(
      (await c.find({}, { _id: 1 }).sort({ tag: 1, n: -1 }).limit(3).toArray()).map((d) => d._id),
      [9, 6, 3],
    );
  });

  it('next() walks the results and resolves undefined when exhausted; sort/skip/limit after it throw', async () => {
    const cur = c.find({ n: { $gte: 8 } }).sort({ n: 1 });
    assert.equal((await cur.next())!.n, 8);
    assert.throws(() => cur.limit(1), /already initialized/);
    assert.throws(() => cur.sort({ n: 1 }), /already initialized/);
    assert.throws(() => cur.skip(1), /already initialized/);
    assert.equal((await cur.next())!.n, 9);
    assert.equal(await cur.next(), undefined);
    assert.equal(await cur.next(), undefined);
  });

  it('toArray after next() returns the rest; an exhausted cursor gives []', async () => {
    const cur = c.find({}).sort({ n: 1 });
    await cur.next();
    assert.equal((await cur.toArray()).length, 9);
    assert.deepEqual(await cur.toArray(), []);
  });

  it('findOne resolves null when nothing matches; find on a missing collection is empty', async () => {
    assert.equal(await c.findOne({ n: 99 }), null);
    assert.deepEqual(await client.db('crud').collection('missing').find({}).toArray(), []);
    assert.equal(await client.db('crud').collection('missing').findOne(), null);
  });

  it('tolerates driver-style options (sort/limit/skip/projection) in the options argument', async () => {
    const docs = await c.find({}, undefined, { sort: { n: -1 }, limit: 2, projection: { n: 1, _id: 0 } }).toArray();
    assert.deepEqual(docs, [{ n: 9 }, { n: 8 }]);
    assert.deepEqual(await c.findOne({}, undefined, { sort: { n: -1 } }), { _id: 9, n: 9, even: false, tag: 't0' });
  });

  it('refuses malformed queries with a MongoDB-style error', async () => {
    await assert.rejects(c.find({ n: { $foo: 1 } }).toArray(), (e: unknown) => e instanceof DataError && e.code === 2 && /unknown operator: \$foo/.test(e.message));
    await assert.rejects(c.findOne('x' as unknown as object), /query must be an object/);
    await assert.rejects(c.find({ $where: 'this.n > 1' }).toArray(), /not supported/);
    await assert.rejects(c.find({ $text: { $search: 'x' } }).toArray(), /not supported/);
  });

  it('async iteration and forEach', async () => {
    const seen: unknown[] = [];
    for await (const d of c.find({ n: { $lt: 3 } }).sort({ n: 1 })) seen.push(d.n);
    assert.deepEqual(seen, [0, 1, 2]);
    let count = 0;
    await c.find({}).forEach(() => {
      count++;
    });
    assert.equal(count, 10);
  });
});

describe('update / replace / delete', () => {
  it('updateOne and updateMany return {matchedCount, modifiedCount}; upsertedId only when an upsert inserted', async () => {
    const c = coll();
    await c.insertMany([{ k: 'a', v: 1 }, { k: 'a', v: 2 }, { k: 'b', v: 3 }]);
    assert.deepEqual(await c.updateOne({ k: 'a' }, { $set: { seen: true } }), { matchedCount: 1, modifiedCount: 1 });
    assert.deepEqual(await c.updateMany({ k: 'a' }, { $set: { seen: true } }), { matchedCount: 2, modifiedCount: 1 });
    assert.deepEqual(await c.updateMany({ k: 'zz' }, { $set: { seen: true } }), { matchedCount: 0, modifiedCount: 0 });
    const up = await c.updateOne({ k: 'new' }, { $set: { v: 9 } }, { upsert: true });
    assert.equal(up.matchedCount, 0);
    assert.ok(up.upsertedId instanceof ObjectId);
    assert.deepEqual(await c.findOne({ _id: up.upsertedId }, { _id: 0 }), { k: 'new', v: 9 });
    assert.deepEqual(await c.updateOne({ k: 'new' }, { $set: { v: 9 } }, { upsert: true }), { matchedCount: 1, modifiedCount: 0 });
  });

  it('an operator-less update document replaces the matched document (as App Services did); updateMany refuses it', async () => {
    const c = coll();
    await c.insertOne({ _id: 1, date: '2024-01-01', revenue: 1, extra: true });
    assert.deepEqual(await c.updateOne({ date: '2024-01-01' }, { date: '2024-01-01', revenue: 2 }, { upsert: true }), { matchedCount: 1, modifiedCount: 1 });
    assert.deepEqual(await c.findOne({ _id: 1 }), { _id: 1, date: '2024-01-01', revenue: 2 });
    const up = await c.updateOne({ date: '2024-02-01' }, { date: '2024-02-01', revenue: 5 }, { upsert: true });
    assert.ok(up.upsertedId);
    await assert.rejects(c.updateMany({}, { revenue: 0 }), /replacement-style/);
    await assert.rejects(c.updateOne({}, {}), /requires atomic operators/);
    await assert.rejects(c.updateOne({}, { $set: { a: 1 }, b: 2 }), /Unknown modifier: b/);
    await assert.rejects(c.updateOne({}, { $frobnicate: { a: 1 } }), /Unknown modifier: \$frobnicate/);
  });

  it('replaceOne keeps _id, refuses operators, and upserts', async () => {
    const c = coll();
    await c.insertOne({ _id: 'r', a: 1, b: 2 });
    assert.deepEqual(await c.replaceOne({ _id: 'r' }, { c: 3 }), { matchedCount: 1, modifiedCount: 1 });
    assert.deepEqual(await c.findOne({ _id: 'r' }), { _id: 'r', c: 3 });
    await assert.rejects(c.replaceOne({ _id: 'r' }, { $set: { c: 4 } }), /must not contain atomic operators/);
    await assert.rejects(c.replaceOne({ _id: 'r' }, { _id: 'other' }), /immutable/);
    const up = await c.replaceOne({ _id: 'new' }, { z: 1 }, { upsert: true });
    assert.equal(up.upsertedId, 'new', 'the query _id is used for the inserted document');
  });

  it('deleteOne / deleteMany return {deletedCount}', async () => {
    const c = coll();
    await c.insertMany([{ g: 1 }, { g: 1 }, { g: 2 }]);
    assert.deepEqual(await c.deleteOne({ g: 1 }), { deletedCount: 1 });
    assert.deepEqual(await c.deleteMany({ g: { $gte: 1 } }), { deletedCount: 2 });
    assert.deepEqual(await c.deleteMany({}), { deletedCount: 0 });
  });
});

describe('findOneAnd*', () => {
  it('findOneAndUpdate returns the old document unless returnNewDocument; honours sort, projection, upsert', async () => {
    const c = coll();
    await c.insertMany([
      { _id: 1, q: 'x', n: 1 },
      { _id: 2, q: 'x', n: 5 },
    ]);
    assert.deepEqual(await c.findOneAndUpdate({ q: 'x' }, { $inc: { n: 1 } }, { sort: { n: -1 } }), { _id: 2, q: 'x', n: 5 });
    assert.deepEqual(await c.findOneAndUpdate({ q: 'x' }, { $inc: { n: 1 } }, { sort: { n: -1 }, returnNewDocument: true, projection: { n: 1 } }), { _id: 2, n: 7 });
    assert.equal(await c.findOneAndUpdate({ q: 'none' }, { $set: { n: 0 } }), null);
    assert.deepEqual(await c.findOneAndUpdate({ q: 'new' }, { $set: { n: 0 } }, { upsert: true, returnNewDocument: true, projection: { _id: 0 } }), { q: 'new', n: 0 });
    assert.equal(await c.findOneAndUpdate({ q: 'new2' }, { $set: { n: 0 } }, { upsert: true }), null, 'upsert without returnNewDocument returns null');
  });

  it('ignores driver/Mongoose options it does not know (returnDocument, new), as App Services did', async () => {
    const c = coll();
    await c.insertOne({ _id: 1, n: 1 });
    assert.deepEqual(await c.findOneAndUpdate({ _id: 1 }, { $inc: { n: 1 } }, { returnDocument: 'after', new: true }), { _id: 1, n: 1 });
  });

  it('findOneAndReplace and findOneAndDelete', async () => {
    const c = coll();
    await c.insertMany([
      { _id: 1, k: 'a', n: 1 },
      { _id: 2, k: 'a', n: 2 },
    ]);
    assert.deepEqual(await c.findOneAndReplace({ k: 'a' }, { k: 'b' }, { sort: { n: -1 }, returnNewDocument: true }), { _id: 2, k: 'b' });
    assert.deepEqual(await c.findOneAndDelete({ k: { $in: ['a', 'b'] } }, { sort: { _id: 1 }, projection: { k: 1 } }), { _id: 1, k: 'a' });
    assert.equal(await c.count(), 1);
    assert.equal(await c.findOneAndDelete({ k: 'zz' }), null);
  });
});

describe('count / distinct / bulkWrite', () => {
  it('count(query, {limit, skip})', async () => {
    const c = coll();
    await c.insertMany(Array.from({ length: 7 }, (_, i) => ({ i })));
    assert.equal(await c.count(), 7);
    assert.equal(await c.count({ i: { $gte: 3 } }), 4);
    assert.equal(await c.count({}, { limit: 5 }), 5);
    assert.equal(await c.count({ i: { $gte: 3 } }, { skip: 3 }), 1);
    assert.equal(await c.countDocuments({ i: 1 }), 1);
  });

  it('distinct unwinds arrays, skips missing fields, honours the query', async () => {
    const c = coll();
    await c.insertMany([{ t: ['a', 'b'] }, { t: 'a' }, { t: 'c', x: 1 }, { u: 1 }, { t: null }]);
    assert.deepEqual(await c.distinct('t'), [null, 'a', 'b', 'c']);
    assert.deepEqual(await c.distinct('t', { x: 1 }), ['c']);
    await assert.rejects(c.distinct('' as string), /field name/);
  });

  it('bulkWrite resolves null; unordered runs every operation and reports the failures', async () => {
    const c = coll();
    const r = await c.bulkWrite([
      { insertOne: { document: { _id: 1, v: 1 } } },
      { insertOne: { document: { _id: 2, v: 2 } } },
      { updateOne: { filter: { _id: 1 }, update: { $set: { v: 10 } } } },
      { updateMany: { filter: { v: { $gte: 2 } }, update: { $inc: { v: 1 } } } },
      { replaceOne: { filter: { _id: 2 }, replacement: { v: 20 } } },
      { deleteOne: { filter: { _id: 3 } } },
      { updateOne: { filter: { _id: 4 }, update: { $set: { v: 4 } }, upsert: true } },
    ]);
    assert.equal(r, null);
    assert.deepEqual(await c.find({}).sort({ _id: 1 }).toArray(), [
      { _id: 1, v: 11 },
      { _id: 2, v: 20 },
      { _id: 4, v: 4 },
    ]);
    await assert.rejects(
      c.bulkWrite(
        [
          { insertOne: { document: { _id: 1 } } },
          { insertOne: { document: { _id: 5 } } },
          { deleteMany: { filter: { _id: 4 } } },
        ],
        { ordered: false },
      ),
      (e: unknown) => e instanceof BulkWriteError && e.writeErrors.length === 1 && e.writeErrors[0].index === 0,
    );
    assert.equal(await c.count({ _id: { $in: [4, 5] } }), 1, 'the operations after the failure ran');
    await assert.rejects(c.bulkWrite([{ frob: {} }]), /unknown bulkWrite operation/);
  });

  it('initializeOrderedBulkOp builds operations and execute() runs them', async () => {
    const c = coll();
    const bulk = c.initializeOrderedBulkOp();
    bulk.insert({ _id: 1, n: 1 });
    bulk.find({ _id: 1 }).updateOne({ $inc: { n: 1 } });
    bulk.find({ _id: 2 }).upsert().updateOne({ $set: { n: 5 } });
    bulk.find({ n: 5 }).delete();
    assert.equal(await bulk.execute(), null);
    assert.deepEqual(await c.find({}).toArray(), [{ _id: 1, n: 2 }]);
  });
});
