// Update operators real apps use, upserts, arrayFilters and the positional operator, through updateOne/updateMany.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ObjectId } from 'bson';
import { closeDataSources } from '../../src/data';
import type { MongoCollection, MongoServiceClient } from '../../src/data';
import { removeDir, systemClient, tempDataDir } from './helpers';

let dir: string;
let client: MongoServiceClient;
let n = 0;
const coll = (): MongoCollection => client.db('upd').collection(`c${++n}`);

before(() => {
  dir = tempDataDir();
  client = systemClient(dir);
});
after(async () => {
  await closeDataSources();
  removeDir(dir);
});

async function applied(start: Record<string, unknown>, update: Record<string, unknown> | Record<string, unknown>[], options: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const c = coll();
  await c.insertOne({ _id: 1, ...start });
  const r = await c.updateOne({ _id: 1 }, update, options);
  assert.equal(r.matchedCount, 1);
  return (await c.findOne({ _id: 1 }))!;
}

describe('update operators', () => {
  it('$set and $unset, with dotted paths', async () => {
    assert.deepEqual(await applied({ a: 1, b: { c: 2 } }, { $set: { 'b.d': 3, e: [1] }, $unset: { a: '' } }), { _id: 1, b: { c: 2, d: 3 }, e: [1] });
  });

  it('$inc and $mul (missing fields start at 0)', async () => {
    assert.deepEqual(await applied({ n: 5, m: 3 }, { $inc: { n: -2, fresh: 4 }, $mul: { m: 2.5, z: 3 } }), { _id: 1, n: 3, m: 7.5, fresh: 4, z: 0 });
  });

  it('$min and $max', async () => {
    assert.deepEqual(await applied({ lo: 5, hi: 5, d: new Date(100) }, { $min: { lo: 3, d: new Date(50) }, $max: { hi: 2 } }), { _id: 1, lo: 3, hi: 5, d: new Date(50) });
  });

  it('$push with $each, $position, $slice and $sort', async () => {
    assert.deepEqual(await applied({ a: [3, 1] }, { $push: { a: 2, b: { $each: [5, 4] } } }), { _id: 1, a: [3, 1, 2], b: [5, 4] });
    assert.deepEqual(await applied({ a: [1, 2] }, { $push: { a: { $each: [0], $position: 0 } } }), { _id: 1, a: [0, 1, 2] });
    assert.deepEqual(await applied({ a: [5, 1] }, { $push: { a: { $each: [3, 9], $sort: 1, $slice: 3 } } }), { _id: 1, a: [1, 3, 5] });
  });

  it('$addToSet (with $each: each distinct value once)', async () => {
    const oid = new ObjectId('000000000000000000000001');
    assert.deepEqual(await applied({ t: ['a'], o: [oid] }, { $addToSet: { t: { $each: ['a', 'b', 'b'] }, o: new ObjectId('000000000000000000000001') } }), { _id: 1, t: ['a', 'b'], o: [oid] });
  });

  it('$pull by value and by condition, $pullAll, $pop', async () => {
    assert.deepEqual(await applied({ a: [1, 2, 3, 2], b: [{ s: 1 }, { s: 5 }], c: [1, 2, 3], d: [1, 2, 3] }, { $pull: { a: 2, b: { s: { $gte: 3 } } }, $pullAll: { c: [1, 3] }, $pop: { d: -1 } }), {
      _id: 1,
      a: [1, 3],
      b: [{ s: 1 }],
      c: [2],
      d: [2, 3],
    });
  });

  it('$rename and $currentDate', async () => {
    const before = Date.now();
    const d = await applied({ old: 'v' }, { $rename: { old: 'renamed' }, $currentDate: { at: true } });
    assert.equal(d.renamed, 'v');
    assert.ok(!('old' in d));
    assert.ok(d.at instanceof Date && d.at.getTime() >= before - 1000);
  });

  it('arrayFilters and the positional $ operator', async () => {
    assert.deepEqual(await applied({ items: [{ k: 'a', q: 1 }, { k: 'b', q: 1 }] }, { $inc: { 'items.$[it].q': 5 } }, { arrayFilters: [{ 'it.k': 'b' }] }), {
      _id: 1,
      items: [
        { k: 'a', q: 1 },
        { k: 'b', q: 6 },
      ],
    });
    const c = coll();
    await c.insertOne({ _id: 1, items: [{ k: 'a', q: 1 }, { k: 'b', q: 1 }] });
    await c.updateOne({ _id: 1, 'items.k': 'b' }, { $set: { 'items.$.q': 9 } });
    assert.deepEqual((await c.findOne({ _id: 1 }))!.items, [
      { k: 'a', q: 1 },
      { k: 'b', q: 9 },
    ]);
    await c.updateOne({ _id: 1 }, { $set: { 'items.$[].q': 0 } });
    assert.deepEqual((await c.findOne({ _id: 1 }))!.items, [
      { k: 'a', q: 0 },
      { k: 'b', q: 0 },
    ]);
  });

  it('pipeline-style updates', async () => {
    assert.deepEqual(await applied({ a: 2, b: 3 }, [{ $set: { sum: { $add: ['$a', '$b'] } } }, { $unset: 'a' }]), { _id: 1, b: 3, sum: 5 });
  });

  it('refuses changing _id, conflicting paths and non-numeric $inc with MongoDB error codes', async () => {
    const c = coll();
    await c.insertOne({ _id: 1, s: 'x', n: 1 });
    await assert.rejects(c.updateOne({ _id: 1 }, { $set: { _id: 2 } }), (e: unknown) => (e as { code: number }).code === 66);
    await assert.rejects(c.updateOne({ _id: 1 }, { $set: { n: 1 }, $inc: { n: 1 } }), (e: unknown) => (e as { code: number }).code === 40);
    await assert.rejects(c.updateOne({ _id: 1 }, { $inc: { s: 1 } }), (e: unknown) => (e as { code: number }).code === 14);
    await assert.rejects(c.updateOne({ _id: 1 }, { $inc: { n: 'one' } }), /non-numeric argument/);
    assert.deepEqual(await c.findOne({ _id: 1 }), { _id: 1, s: 'x', n: 1 }, 'nothing was written');
  });

  it('counts an update that changes nothing as matched, not modified', async () => {
    const c = coll();
    await c.insertOne({ _id: 1, a: 1, t: ['x'] });
    assert.deepEqual(await c.updateOne({ _id: 1 }, { $set: { a: 1 }, $addToSet: { t: 'x' } }), { matchedCount: 1, modifiedCount: 0 });
  });
});

describe('upsert', () => {
  it('seeds the new document from the query equalities, then applies the update and $setOnInsert', async () => {
    const c = coll();
    const r = await c.updateOne({ email: 'a@x', age: { $gt: 3 }, $and: [{ team: 'red' }], 'profile.lang': 'fr' }, { $set: { seen: 1 }, $setOnInsert: { created: true }, $inc: { visits: 1 } }, { upsert: true });
    assert.ok(r.upsertedId instanceof ObjectId);
    assert.deepEqual(await c.findOne({ _id: r.upsertedId }, { _id: 0 }), { email: 'a@x', team: 'red', profile: { lang: 'fr' }, seen: 1, created: true, visits: 1 });
    await c.updateOne({ email: 'a@x' }, { $set: { seen: 2 }, $setOnInsert: { created: 'again' } }, { upsert: true });
    const d = (await c.findOne({ email: 'a@x' }))!;
    assert.equal(d.seen, 2);
    assert.equal(d.created, true, '$setOnInsert only applies when inserting');
  });

  it('uses the _id given in the query', async () => {
    const c = coll();
    const r = await c.updateOne({ _id: 'fixed' }, { $set: { v: 1 } }, { upsert: true });
    assert.equal(r.upsertedId, 'fixed');
    const m = await c.updateMany({ group: 'g' }, { $set: { v: 1 } }, { upsert: true });
    assert.equal(m.matchedCount, 0);
    assert.ok(m.upsertedId);
  });
});
