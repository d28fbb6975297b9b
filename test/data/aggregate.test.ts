// aggregate(): the stages real apps use, and clear errors for the ones the embedded store cannot run.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Decimal128, ObjectId } from 'bson';
import { closeDataSources, DataError } from '../../src/data';
import type { MongoCollection, MongoServiceClient } from '../../src/data';
import { removeDir, systemClient, tempDataDir } from './helpers';

let dir: string;
let client: MongoServiceClient;
let orders: MongoCollection;
let users: MongoCollection;
const u1 = new ObjectId('000000000000000000000001');
const u2 = new ObjectId('000000000000000000000002');

before(async () => {
  dir = tempDataDir();
  client = systemClient(dir);
  const db = client.db('agg');
  orders = db.collection('orders');
  users = db.collection('users');
  await users.insertMany([
    { _id: u1, name: 'Ann' },
    { _id: u2, name: 'Bob' },
  ]);
  await orders.insertMany([
    { _id: 1, user: u1, total: 10, items: ['a', 'b'], at: new Date('2024-01-01') },
    { _id: 2, user: u1, total: 30, items: ['c'], at: new Date('2024-01-02') },
    { _id: 3, user: u2, total: 5, items: [], at: new Date('2024-01-03') },
    { _id: 4, user: u2, total: 25, items: ['a'], at: new Date('2024-01-04'), price: Decimal128.fromString('2.50') },
  ]);
});
after(async () => {
  await closeDataSources();
  removeDir(dir);
});

describe('aggregate', () => {
  it('$match, $group, $sort, $project', async () => {
    const out = await orders
      .aggregate([{ $match: { total: { $gte: 10 } } }, { $group: { _id: '$user', sum: { $sum: '$total' }, n: { $sum: 1 } } }, { $sort: { sum: -1 } }, { $project: { _id: 0, sum: 1, n: 1 } }])
      .toArray();
    assert.deepEqual(out, [
      { sum: 40, n: 2 },
      { sum: 25, n: 1 },
    ]);
  });

  it('$unwind, $limit, $skip, $count, $addFields', async () => {
    assert.deepEqual(await orders.aggregate([{ $unwind: '$items' }, { $count: 'n' }]).toArray(), [{ n: 4 }]);
    const out = await orders.aggregate([{ $sort: { _id: 1 } }, { $skip: 1 }, { $limit: 2 }, { $addFields: { double: { $multiply: ['$total', 2] } } }, { $project: { double: 1 } }]).toArray();
    assert.deepEqual(out, [
      { _id: 2, double: 60 },
      { _id: 3, double: 10 },
    ]);
  });

  it('$lookup joins another collection of the same database (ObjectId keys)', async () => {
    const out = await orders.aggregate([{ $match: { _id: 2 } }, { $lookup: { from: 'users', localField: 'user', foreignField: '_id', as: 'who' } }, { $project: { name: { $first: '$who.name' } } }]).toArray();
    assert.deepEqual(out, [{ _id: 2, name: 'Ann' }]);
  });

  it('$facet and $setWindowFields', async () => {
    const [facet] = await orders.aggregate([{ $facet: { big: [{ $match: { total: { $gt: 20 } } }, { $count: 'n' }], all: [{ $count: 'n' }] } }]).toArray();
    assert.deepEqual(facet, { big: [{ n: 2 }], all: [{ n: 4 }] });
    const running = await orders
      .aggregate([{ $setWindowFields: { partitionBy: '$user', sortBy: { at: 1 }, output: { running: { $sum: '$total', window: { documents: ['unbounded', 'current'] } } } } }, { $project: { running: 1 } }, { $sort: { _id: 1 } }])
      .toArray();
    assert.deepEqual(
      running.map((d) => d.running),
      [10, 40, 5, 30],
    );
  });

  it('the cursor supports next(), toArray() and skip()', async () => {
    const cur = orders.aggregate([{ $sort: { _id: 1 } }, { $project: { _id: 1 } }]).skip(2);
    assert.deepEqual(await cur.next(), { _id: 3 });
    assert.deepEqual(await cur.toArray(), [{ _id: 4 }]);
    assert.equal(await cur.next(), undefined);
  });

  it('a leading $match uses the same exact comparisons as find (Decimal128 vs numbers)', async () => {
    assert.deepEqual(await orders.aggregate([{ $match: { price: { $gt: 2 } } }, { $project: { _id: 1 } }]).toArray(), [{ _id: 4 }]);
  });

  it('refuses Atlas-only and writing stages with a clear MongoDB-style error', async () => {
    for (const stage of [{ $search: { text: { query: 'x', path: 'a' } } }, { $vectorSearch: {} }, { $out: 'x' }, { $merge: { into: 'x' } }]) {
      await assert.rejects(orders.aggregate([stage]).toArray(), (e: unknown) => e instanceof DataError && e.code === 115 && /not supported by Atrium's embedded store/.test(e.message));
    }
    await assert.rejects(orders.aggregate([{ $frob: {} }]).toArray(), (e: unknown) => e instanceof DataError && e.code === 40324 && /Unrecognized pipeline stage name: '\$frob'/.test(e.message));
    await assert.rejects(orders.aggregate([{ $match: {}, $limit: 1 }]).toArray(), /exactly one field/);
  });
});
