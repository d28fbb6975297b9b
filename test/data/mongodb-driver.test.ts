// The real-MongoDB path. No MongoDB server exists on this machine, so: the failure against a closed port is
// tested for real (the official driver, a real TCP refusal); the App Services -> driver option and result
// mapping is tested with a stand-in at the driver boundary (the DriverClient the source is given).
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ObjectId } from 'bson';
import { checkMongoConnection, closeDataSources, createServiceClient, DataError, MongoServiceClient } from '../../src/data';
import { MongoDataSource } from '../../src/data/mongodb';
import type { DriverClient } from '../../src/data/mongodb';
import { testApp } from './helpers';

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('connection failures (real driver, closed port)', () => {
  let uri: string;
  before(async () => {
    process.env.ATRIUM_MONGODB_TIMEOUT_MS = '1500';
    uri = `mongodb://atrium:s3cret-pw@127.0.0.1:${await closedPort()}/?directConnection=true`;
  });
  after(async () => {
    delete process.env.ATRIUM_MONGODB_TIMEOUT_MS;
    await closeDataSources();
  });

  it('each request fails within a few seconds with a clear error that names the data source, not the password', async () => {
    const client = createServiceClient({ app: testApp(), serviceName: 'mongodb-atlas', dataDir: '/nonexistent', mongodbUri: uri, identity: { user: null, runAsSystem: true } })!;
    for (let i = 0; i < 2; i++) {
      const started = Date.now();
      await assert.rejects(client.db('a').collection('b').findOne({}), (e: unknown) => {
        assert.ok(e instanceof DataError);
        assert.equal(e.name, 'MongoServerSelectionError');
        assert.match(e.message, /cannot reach MongoDB for data source "mongodb-atlas" at 127\.0\.0\.1:\d+/);
        assert.doesNotMatch(e.message, /s3cret-pw/);
        return true;
      });
      const took = Date.now() - started;
      assert.ok(took < 5000, `failed after ${took} ms`);
    }
  });

  it('checkMongoConnection rejects clearly (for start-up checks)', async () => {
    await assert.rejects(checkMongoConnection(uri, 'Cluster0'), /cannot reach MongoDB for data source "Cluster0"/);
    await assert.rejects(checkMongoConnection('postgres://x', 'Cluster0'), /invalid MongoDB connection string for data source "Cluster0"/);
  });
});

interface Call {
  method: string;
  args: unknown[];
}

/** A stand-in for the driver's MongoClient: records calls, answers with driver-shaped results. */
function fakeDriver(): { client: DriverClient; calls: Call[]; answers: Record<string, unknown> } {
  const calls: Call[] = [];
  const answers: Record<string, unknown> = {};
  const record =
    (method: string) =>
    (...args: unknown[]): unknown => {
      calls.push({ method, args });
      return answers[method];
    };
  const cursor = (method: string) => (...args: unknown[]) => {
    calls.push({ method, args });
    return { toArray: async () => (answers[method] as unknown[]) ?? [] };
  };
  const collection = {
    find: cursor('find'),
    aggregate: cursor('aggregate'),
    listIndexes: cursor('listIndexes'),
    countDocuments: async (...a: unknown[]) => record('countDocuments')(...a),
    distinct: async (...a: unknown[]) => record('distinct')(...a),
    insertOne: async (...a: unknown[]) => record('insertOne')(...a),
    insertMany: async (...a: unknown[]) => record('insertMany')(...a),
    updateOne: async (...a: unknown[]) => record('updateOne')(...a),
    updateMany: async (...a: unknown[]) => record('updateMany')(...a),
    replaceOne: async (...a: unknown[]) => record('replaceOne')(...a),
    deleteOne: async (...a: unknown[]) => record('deleteOne')(...a),
    deleteMany: async (...a: unknown[]) => record('deleteMany')(...a),
    findOneAndUpdate: async (...a: unknown[]) => record('findOneAndUpdate')(...a),
    findOneAndReplace: async (...a: unknown[]) => record('findOneAndReplace')(...a),
    findOneAndDelete: async (...a: unknown[]) => record('findOneAndDelete')(...a),
    bulkWrite: async (...a: unknown[]) => record('bulkWrite')(...a),
    createIndex: async (...a: unknown[]) => record('createIndex')(...a),
  };
  const session = {
    inTransaction: () => false,
    withTransaction: async (fn: () => Promise<unknown>) => {
      calls.push({ method: 'withTransaction', args: [] });
      return fn();
    },
    endSession: async () => undefined,
  };
  const client = {
    db: () => ({ collection: () => collection, listCollections: cursor('listCollections') }),
    startSession: () => session,
    close: async () => undefined,
  } as unknown as DriverClient;
  return { client, calls, answers };
}

describe('App Services -> driver mapping (stand-in driver)', () => {
  const setup = () => {
    const fake = fakeDriver();
    const source = new MongoDataSource('mongodb-atlas', 'mongodb://h:1', () => fake.client);
    const coll = new MongoServiceClient(source, true).db('app').collection('items');
    const last = (method: string): unknown[] => {
      const c = [...fake.calls].reverse().find((x) => x.method === method);
      assert.ok(c, `driver ${method} was not called`);
      return c.args;
    };
    return { ...fake, source, coll, last };
  };

  it('find: the projection argument becomes options.projection; sort/skip/limit pass through', async () => {
    const { coll, last, answers } = setup();
    answers.find = [{ _id: 1, a: 1 }];
    assert.deepEqual(await coll.find({ a: 1 }, { a: 1 }).sort({ a: -1 }).skip(2).limit(5).toArray(), [{ _id: 1, a: 1 }]);
    const [filter, opts] = last('find') as [unknown, Record<string, unknown>];
    assert.deepEqual(filter, { a: 1 });
    assert.deepEqual(opts, { projection: { a: 1 }, sort: { a: -1 }, skip: 2, limit: 5 });
    await coll.findOne({ b: 2 }, { b: 1 });
    assert.deepEqual(last('find')[1], { projection: { b: 1 }, limit: 1 });
  });

  it('find enforces the 50,000 result limit (asks the driver for one more)', async () => {
    const { coll, last, answers } = setup();
    answers.find = Array.from({ length: 50_001 }, (_, i) => ({ _id: i }));
    await assert.rejects(coll.find({}).toArray(), /more than 50000 documents/);
    assert.equal((last('find')[1] as { limit: number }).limit, 50_001);
  });

  it('findOneAndUpdate: returnNewDocument -> returnDocument; sort, projection, upsert pass through; unknown options dropped', async () => {
    const { coll, last, answers } = setup();
    answers.findOneAndUpdate = { _id: 1, n: 2 };
    assert.deepEqual(await coll.findOneAndUpdate({ _id: 1 }, { $inc: { n: 1 } }, { returnNewDocument: true, sort: { n: 1 }, projection: { n: 1 }, upsert: true, new: true }), { _id: 1, n: 2 });
    assert.deepEqual(last('findOneAndUpdate')[2], { sort: { n: 1 }, projection: { n: 1 }, includeResultMetadata: false, upsert: true, returnDocument: 'after' });
    await coll.findOneAndUpdate({ _id: 1 }, { $inc: { n: 1 } }, { returnDocument: 'after' });
    assert.equal((last('findOneAndUpdate')[2] as { returnDocument: string }).returnDocument, 'before', "App Services' option name is the one that counts");
    await coll.findOneAndUpdate({ _id: 1 }, { n: 5 });
    assert.deepEqual(last('findOneAndReplace').slice(0, 2), [{ _id: 1 }, { n: 5 }], 'an operator-less update replaces');
    await coll.findOneAndDelete({ _id: 1 }, { sort: { n: -1 } });
    assert.deepEqual(last('findOneAndDelete')[1], { sort: { n: -1 }, includeResultMetadata: false });
  });

  it('insert results: insertedId / insertedIds as an array', async () => {
    const { coll, answers } = setup();
    const id = new ObjectId();
    answers.insertOne = { acknowledged: true, insertedId: id };
    assert.deepEqual(await coll.insertOne({ _id: id }), { insertedId: id });
    answers.insertMany = { acknowledged: true, insertedCount: 2, insertedIds: { 0: 'a', 1: 'b' } };
    assert.deepEqual(await coll.insertMany([{ _id: 'a' }, { _id: 'b' }]), { insertedIds: ['a', 'b'] });
  });

  it('update results drop acknowledged and a null upsertedId; an operator-less updateOne becomes replaceOne', async () => {
    const { coll, last, answers } = setup();
    answers.updateOne = { acknowledged: true, matchedCount: 1, modifiedCount: 1, upsertedCount: 0, upsertedId: null };
    assert.deepEqual(await coll.updateOne({ a: 1 }, { $set: { b: 1 } }, { arrayFilters: [{ 'x.k': 1 }] }), { matchedCount: 1, modifiedCount: 1 });
    assert.deepEqual(last('updateOne')[2], { upsert: false, arrayFilters: [{ 'x.k': 1 }] });
    answers.replaceOne = { acknowledged: true, matchedCount: 0, modifiedCount: 0, upsertedCount: 1, upsertedId: 'new' };
    assert.deepEqual(await coll.updateOne({ date: 'd' }, { date: 'd', revenue: 1 }, { upsert: true }), { matchedCount: 0, modifiedCount: 0, upsertedId: 'new' });
    assert.deepEqual(last('replaceOne').slice(0, 3), [{ date: 'd' }, { date: 'd', revenue: 1 }, { upsert: true }]);
    await assert.rejects(coll.updateMany({}, { a: 1 }), /replacement-style/);
    answers.deleteMany = { acknowledged: true, deletedCount: 3 };
    assert.deepEqual(await coll.deleteMany({}), { deletedCount: 3 });
  });

  it('count -> countDocuments with skip/limit; bulkWrite resolves null and maps replacement updates', async () => {
    const { coll, last, answers } = setup();
    answers.countDocuments = 4;
    assert.equal(await coll.count({ a: 1 }, { limit: 10, skip: 1 }), 4);
    assert.deepEqual(last('countDocuments'), [{ a: 1 }, { skip: 1, limit: 10 }]);
    answers.bulkWrite = { ok: 1 };
    assert.equal(await coll.bulkWrite([{ updateOne: { filter: { a: 1 }, update: { a: 2 } } }, { deleteOne: { filter: { a: 3 } } }], { ordered: false }), null);
    const [ops, opts] = last('bulkWrite') as [unknown[], unknown];
    assert.deepEqual(ops[0], { replaceOne: { filter: { a: 1 }, replacement: { a: 2 }, upsert: false } });
    assert.deepEqual(opts, { ordered: false });
  });

  it('aggregate bounds the result unless the pipeline writes; sessions reach the driver', async () => {
    const { coll, last, answers, calls } = setup();
    answers.aggregate = [{ n: 1 }];
    assert.deepEqual(await coll.aggregate([{ $match: {} }]).toArray(), [{ n: 1 }]);
    assert.deepEqual(last('aggregate')[0], [{ $match: {} }, { $limit: 50_001 }]);
    await coll.aggregate([{ $out: 'x' }]).toArray();
    assert.deepEqual(last('aggregate')[0], [{ $out: 'x' }]);
    const s = new MongoServiceClient(setup().source, true).startSession();
    assert.equal(await s.withTransaction(async () => 7), 7);
    void calls;
  });
});
