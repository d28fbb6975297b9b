// client.startSession(): withTransaction, manual start/commit/abort, { session } in options (embedded store).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closeDataSources, DataError } from '../../src/data';
import type { MongoServiceClient } from '../../src/data';
import { removeDir, systemClient, tempDataDir } from './helpers';

let dir: string;
let client: MongoServiceClient;

before(() => {
  dir = tempDataDir();
  client = systemClient(dir);
});
after(async () => {
  await closeDataSources();
  removeDir(dir);
});

describe('transactions', () => {
  it('withTransaction commits on success and returns the callback result; reads in the session see its writes', async () => {
    const db = client.db('tx');
    const accounts = db.collection('accounts');
    const trades = db.collection('trades');
    await accounts.insertMany([
      { name: 'henry', points: 42 },
      { name: 'michelle', points: 144 },
    ]);
    const session = client.startSession();
    const result = await session.withTransaction(async (s) => {
      await accounts.updateOne({ name: 'henry' }, { $inc: { points: -5 } }, { session: s });
      await accounts.updateOne({ name: 'michelle' }, { $inc: { points: 5 } }, { session: s });
      await trades.insertOne({ from: 'henry', to: 'michelle', n: 5 }, { session: s });
      assert.equal((await accounts.findOne({ name: 'henry' }, undefined, { session: s }))!.points, 37, 'the session sees its own write');
      assert.equal((await accounts.findOne({ name: 'henry' }))!.points, 42, 'others do not see it before commit');
      return 'done';
    });
    await session.endSession();
    assert.equal(result, 'done');
    assert.equal((await accounts.findOne({ name: 'henry' }))!.points, 37);
    assert.equal((await accounts.findOne({ name: 'michelle' }))!.points, 149);
    assert.equal(await trades.count(), 1);
  });

  it('a callback that throws aborts everything it wrote and the error reaches the caller', async () => {
    const c = client.db('tx').collection('abort');
    await c.insertOne({ _id: 1, v: 1 });
    const session = client.startSession();
    await assert.rejects(
      session.withTransaction(async () => {
        await c.updateOne({ _id: 1 }, { $set: { v: 2 } }, { session });
        await c.insertOne({ _id: 2 }, { session });
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.deepEqual(await c.find({}).toArray(), [{ _id: 1, v: 1 }]);
    // A failing operation inside the callback (duplicate key) aborts the same way.
    await assert.rejects(
      session.withTransaction(async () => {
        await c.insertOne({ _id: 3 }, { session });
        await c.insertOne({ _id: 1 }, { session });
      }),
      /E11000/,
    );
    assert.equal(await c.count({ _id: 3 }), 0);
    await session.endSession();
  });

  it('startTransaction / commitTransaction / abortTransaction, and their misuse', async () => {
    const c = client.db('tx').collection('manual');
    const session = client.startSession();
    await assert.rejects(session.commitTransaction(), (e: unknown) => e instanceof DataError && e.codeName === 'NoSuchTransaction');
    session.startTransaction();
    assert.throws(() => session.startTransaction(), /already in progress/);
    await c.insertOne({ k: 'kept' }, { session });
    await session.commitTransaction();
    await assert.rejects(session.abortTransaction(), /after calling commitTransaction/);
    session.startTransaction();
    await c.insertOne({ k: 'dropped' }, { session });
    await session.abortTransaction();
    assert.deepEqual(await c.find({}, { _id: 0 }).toArray(), [{ k: 'kept' }]);
    session.startTransaction();
    await c.insertOne({ k: 'open at end' }, { session });
    await session.endSession();
    assert.equal(await c.count({ k: 'open at end' }), 0, 'endSession aborts an open transaction');
    await assert.rejects(c.insertOne({ k: 'x' }, { session }), /session that has ended/);
  });

  it('other writes in the same thread wait for the transaction instead of deadlocking', async () => {
    const c = client.db('tx').collection('concurrent');
    const session = client.startSession();
    session.startTransaction();
    await c.insertOne({ _id: 'in-tx' }, { session });
    let outsideDone = false;
    const outside = c.insertOne({ _id: 'outside' }).then(() => {
      outsideDone = true;
    });
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(outsideDone, false, 'the outside write waits');
    assert.equal(await c.count(), 0, 'reads outside the session still answer (committed data)');
    await session.commitTransaction();
    await outside;
    assert.equal(await c.count(), 2);
    await session.endSession();
  });

  it('a write inside withTransaction that forgets { session } fails clearly instead of hanging', async () => {
    const c = client.db('tx').collection('forgot');
    const session = client.startSession();
    await assert.rejects(
      session.withTransaction(async () => {
        await c.insertOne({ a: 1 }, { session });
        await c.insertOne({ b: 1 });
      }),
      /without \{ session \}/,
    );
    assert.equal(await c.count(), 0);
    await session.endSession();
  });

  it('two sessions in one thread run one after the other', async () => {
    const c = client.db('tx').collection('two');
    await c.insertOne({ _id: 1, n: 0 });
    const s1 = client.startSession();
    const s2 = client.startSession();
    const bump = (s: typeof s1) =>
      s.withTransaction(async () => {
        const d = await c.findOne({ _id: 1 }, undefined, { session: s });
        await new Promise((r) => setTimeout(r, 10));
        await c.updateOne({ _id: 1 }, { $set: { n: (d!.n as number) + 1 } }, { session: s });
      });
    await Promise.all([bump(s1), bump(s2)]);
    assert.equal((await c.findOne({ _id: 1 }))!.n, 2, 'no lost update');
    await s1.endSession();
    await s2.endSession();
  });

  it('a transaction started inside another one fails clearly instead of waiting for itself', async () => {
    const c = client.db('tx').collection('nested');
    const outer = client.startSession();
    const inner = client.startSession();
    await assert.rejects(
      outer.withTransaction(async () => {
        await c.insertOne({ a: 1 }, { session: outer });
        await inner.withTransaction(async () => {
          await c.insertOne({ b: 1 }, { session: inner });
        });
      }),
      /inside the callback of another transaction/,
    );
    assert.equal(await c.count(), 0);
    await outer.endSession();
    await inner.endSession();
  });

  it('refuses a session object that did not come from startSession()', async () => {
    await assert.rejects(client.db('tx').collection('x').insertOne({}, { session: {} }), /startSession/);
  });
});
