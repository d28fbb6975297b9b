// The App Services limit of 50,000 documents per query result (§13), enforced with a clear error.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closeDataSources, DataError, MAX_QUERY_RESULT } from '../../src/data';
import type { MongoCollection } from '../../src/data';
import { removeDir, systemClient, tempDataDir } from './helpers';

let dir: string;
let c: MongoCollection;

before(async () => {
  dir = tempDataDir();
  c = systemClient(dir).db('limits').collection('big');
  const batch = 5000;
  for (let i = 0; i <= MAX_QUERY_RESULT; i += batch) {
    const docs = [];
    for (let j = i; j < Math.min(i + batch, MAX_QUERY_RESULT + 1); j++) docs.push({ _id: j, even: j % 2 === 0 });
    await c.insertMany(docs);
  }
});
after(async () => {
  await closeDataSources();
  removeDir(dir);
});

const tooLarge = (e: unknown): boolean => e instanceof DataError && e.codeName === 'QueryResultLimitExceeded' && /more than 50000 documents/.test(e.message);

describe('50,000 documents per query result', () => {
  it('a find or aggregate returning more fails with a clear error', async () => {
    assert.equal(await c.count(), MAX_QUERY_RESULT + 1);
    await assert.rejects(c.find({}).toArray(), tooLarge);
    await assert.rejects(c.find({}).sort({ _id: -1 }).toArray(), tooLarge);
    await assert.rejects(c.aggregate([{ $match: {} }]).toArray(), tooLarge);
  });

  it('results at the limit, narrowed or paged, are fine', async () => {
    assert.equal((await c.find({}).limit(MAX_QUERY_RESULT).toArray()).length, MAX_QUERY_RESULT);
    assert.equal((await c.find({}).skip(1).toArray()).length, MAX_QUERY_RESULT);
    assert.equal((await c.find({ even: true }).toArray()).length, MAX_QUERY_RESULT / 2 + 1);
    assert.deepEqual(await c.aggregate([{ $group: { _id: '$even', n: { $sum: 1 } } }, { $sort: { _id: 1 } }]).toArray(), [
      { _id: false, n: 25000 },
      { _id: true, n: 25001 },
    ]);
  });

  it('next() reads in batches: one document from a big collection is cheap', async () => {
    const cur = c.find({});
    assert.deepEqual(await cur.next(), { _id: 0, even: true });
  });
});
