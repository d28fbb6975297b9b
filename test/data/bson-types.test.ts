// BSON types survive every round trip, and queries compare them the way MongoDB does (not by toString()).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Binary, BSON, Decimal128, Double, EJSON, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, UUID } from 'bson';
import { closeDataSources } from '../../src/data';
import type { MongoCollection, MongoServiceClient } from '../../src/data';
import { compareBson, encodeKey } from '../../src/data/values';
import { removeDir, systemClient, tempDataDir } from './helpers';

let dir: string;
let client: MongoServiceClient;
let n = 0;
const coll = (): MongoCollection => client.db('bson').collection(`c${++n}`);

before(() => {
  dir = tempDataDir();
  client = systemClient(dir);
});
after(async () => {
  await closeDataSources();
  removeDir(dir);
});

/** Canonical EJSON: shows the exact BSON type of every value. */
const canonical = (v: unknown): string => EJSON.stringify(v, { relaxed: false });

function sample(): Record<string, unknown> {
  return {
    _id: new ObjectId('64b7f0c2a1b2c3d4e5f60718'),
    oid: new ObjectId('64b7f0c2a1b2c3d4e5f60719'),
    date: new Date('2024-05-06T07:08:09.123Z'),
    dec: Decimal128.fromString('9823.1297'),
    bigLong: Long.fromString('9007199254740993'),
    int: new Int32(42),
    dbl: new Double(10),
    frac: 1.5,
    bin: new Binary(Buffer.from([1, 2, 3, 250]), 0),
    uuid: new UUID('0f8fad5b-d9cb-469f-a165-70867728950e'),
    ts: new Timestamp({ t: 1565545664, i: 1 }),
    min: new MinKey(),
    max: new MaxKey(),
    re: /^H/i,
    nested: { deep: { list: [1, 'two', { three: new Int32(3) }, [Long.fromNumber(4)]] } },
    nul: null,
    bool: false,
  };
}

describe('round trips', () => {
  it('stores every BSON type exactly (what is on disk equals what was inserted)', async () => {
    const c = coll();
    const doc = sample();
    await c.insertOne(doc);
    const exported = await client.db('bson').collection(`c${n}`).aggregate([{ $match: {} }]).toArray();
    assert.equal(exported.length, 1);
    // The stored bytes decode (typed) to the same canonical EJSON as the input.
    const { openEmbeddedDataSource } = await import('../../src/data/embedded');
    const source = openEmbeddedDataSource(dir, 'mongodb-atlas');
    const row = source.store.main.db.prepare('SELECT doc FROM docs d JOIN collections c ON c.id = d.cid WHERE c.name = ?').get(`c${n}`) as { doc: Buffer };
    assert.equal(canonical(BSON.deserialize(row.doc, { promoteValues: false })), canonical(BSON.deserialize(BSON.serialize(doc), { promoteValues: false })));
  });

  it('reads back in the Node driver shape: numbers for int32/double/small int64, objects for the rest', async () => {
    const c = coll();
    await c.insertOne(sample());
    const d = (await c.findOne({}))!;
    assert.equal(d.int, 42);
    assert.equal(d.dbl, 10);
    assert.equal(d.frac, 1.5);
    assert.ok(d.bigLong instanceof Long && d.bigLong.toString() === '9007199254740993', 'int64 beyond 2^53 stays a Long');
    assert.ok(d.dec instanceof Decimal128 && d.dec.toString() === '9823.1297');
    assert.ok(d.oid instanceof ObjectId);
    assert.ok(d.date instanceof Date && d.date.getTime() === Date.parse('2024-05-06T07:08:09.123Z'));
    assert.ok(d.bin instanceof Binary && Buffer.from(d.bin.buffer.subarray(0, d.bin.position)).equals(Buffer.from([1, 2, 3, 250])));
    assert.ok(d.ts instanceof Timestamp);
    assert.ok(d.re instanceof RegExp && d.re.flags === 'i');
  });

  it('an update keeps the stored type of every field it does not touch, and MongoDB types for arithmetic', async () => {
    const c = coll();
    await c.insertOne({ _id: 1, l: Long.fromNumber(5), d: new Double(2), i: new Int32(3), dec: Decimal128.fromString('1.10'), keep: Long.fromNumber(7) });
    await c.updateOne({ _id: 1 }, { $inc: { l: 1, i: 2147483647 }, $set: { s: 'x' }, $mul: { d: 2 } });
    const typed = await rawTyped(c);
    assert.equal(canonical(typed.l), '{"$numberLong":"6"}');
    assert.equal(canonical(typed.i), '{"$numberLong":"2147483650"}', 'int32 overflow becomes int64');
    assert.equal(canonical(typed.d), '{"$numberDouble":"4.0"}');
    assert.equal(canonical(typed.dec), '{"$numberDecimal":"1.10"}');
    assert.equal(canonical(typed.keep), '{"$numberLong":"7"}');
  });

  it('refuses arithmetic it cannot do exactly (Decimal128) instead of answering wrongly', async () => {
    const c = coll();
    await c.insertOne({ _id: 1, price: Decimal128.fromString('19.99'), name: 'x' });
    await assert.rejects(c.updateOne({ _id: 1 }, { $inc: { price: 1 } }), /not supported/);
    await assert.rejects(c.updateOne({ _id: 1 }, { $inc: { name: 1 } }), (e: unknown) => (e as { code: number }).code === 14);
    assert.equal(canonical((await rawTyped(c)).price), '{"$numberDecimal":"19.99"}');
  });
});

async function rawTyped(c: MongoCollection): Promise<Record<string, unknown>> {
  const { openEmbeddedDataSource } = await import('../../src/data/embedded');
  const source = openEmbeddedDataSource(dir, 'mongodb-atlas');
  const row = source.store.main.db.prepare('SELECT doc FROM docs d JOIN collections c ON c.id = d.cid WHERE c.db = ? AND c.name = ?').get(c.dbName, c.collectionName) as { doc: Buffer };
  return BSON.deserialize(row.doc, { promoteValues: false }) as Record<string, unknown>;
}

describe('comparisons follow MongoDB, not toString()', () => {
  let c: MongoCollection;
  before(async () => {
    c = coll();
    await c.insertMany([
      { _id: 'd9', v: Decimal128.fromString('9') },
      { _id: 'd10', v: Decimal128.fromString('10') },
      { _id: 'd10.5', v: Decimal128.fromString('10.50') },
      { _id: 'l-big', v: Long.fromString('9007199254740993') },
      { _id: 'n2', v: 2 },
      { _id: 'i11', v: new Int32(11) },
      { _id: 'nan', v: NaN },
      { _id: 's', v: '100' },
      { _id: 'date', v: new Date(1000) },
      { _id: 'date2', v: new Date(2000) },
      { _id: 'oid1', v: new ObjectId('000000000000000000000009') },
      { _id: 'oid2', v: new ObjectId('00000000000000000000000a') },
      { _id: 'arr', v: [1, 50] },
      { _id: 'nullv', v: null },
      { _id: 'missing' },
    ]);
  });
  const ids = async (q: Record<string, unknown>, sort: Record<string, unknown> = { _id: 1 }): Promise<unknown[]> => (await c.find(q, { _id: 1 }).sort(sort).toArray()).map((d) => d._id);

  it('numbers of every type compare by value', async () => {
    // [1, 50] matches too: each condition is met by some element (MongoDB array semantics).
    assert.deepEqual(await ids({ v: { $gt: 9, $lt: 11 } }), ['arr', 'd10', 'd10.5']);
    assert.deepEqual(await ids({ v: { $elemMatch: { $gt: 9, $lt: 11 } } }), []);
    assert.deepEqual(await ids({ v: 10.5 }), ['d10.5']);
    assert.deepEqual(await ids({ v: Decimal128.fromString('11') }), ['i11']);
    assert.deepEqual(await ids({ v: Long.fromString('9007199254740993') }), ['l-big']);
    assert.deepEqual(await ids({ v: 9007199254740992 }), [], 'exact: 2^53 is not 2^53+1');
    assert.deepEqual(await ids({ v: { $gte: 100 } }), ['l-big'], 'strings are not numbers (type bracketing)');
    assert.deepEqual(await ids({ v: { $in: [2, Decimal128.fromString('9')] } }), ['d9', 'n2']);
    assert.deepEqual(await ids({ $expr: { $and: [{ $gt: ['$v', 9.5] }, { $lt: ['$v', 10.6] }] }, _id: { $regex: '^d' } }), ['d10', 'd10.5'], '$expr sees Decimal128 as numbers');
  });

  it('arrays match when an element matches', async () => {
    assert.deepEqual(await ids({ v: { $gt: 40 } }), ['arr', 'l-big']);
    assert.deepEqual(await ids({ v: 50 }), ['arr']);
  });

  it('dates and ObjectIds compare by value and byte order', async () => {
    assert.deepEqual(await ids({ v: { $gt: new Date(1500) } }), ['date2']);
    assert.deepEqual(await ids({ v: { $gt: new ObjectId('000000000000000000000009') } }), ['oid2']);
  });

  it('null matches null and missing; $type knows BSON aliases', async () => {
    assert.deepEqual(await ids({ v: null }), ['missing', 'nullv']);
    assert.deepEqual(await ids({ v: { $type: 'objectId' } }), ['oid1', 'oid2']);
    assert.deepEqual(await ids({ v: { $type: 'decimal' } }), ['d10', 'd10.5', 'd9']);
    assert.deepEqual(await ids({ v: { $type: 'long' } }), ['l-big']);
    assert.deepEqual(await ids({ v: { $type: 'int' } }), ['arr', 'i11', 'n2']);
    assert.deepEqual(await ids({ v: { $type: 'date' } }), ['date', 'date2']);
    assert.deepEqual(await ids({ v: { $type: 'number' } }), ['arr', 'd10', 'd10.5', 'd9', 'i11', 'l-big', 'n2', 'nan']);
  });

  it('sort uses MongoDB type order, numbers by value, arrays by their smallest element', async () => {
    const order = (await c.find({}, { _id: 1 }).sort({ v: 1, _id: 1 }).toArray()).map((d) => d._id);
    assert.deepEqual(order, ['missing', 'nullv', 'nan', 'arr', 'n2', 'd9', 'd10', 'd10.5', 'i11', 'l-big', 's', 'oid1', 'oid2', 'date', 'date2']);
  });
});

describe('order-preserving keys', () => {
  // Random values of many types: the byte order of their keys must agree with MongoDB's order.
  function randomValue(rnd: () => number): unknown {
    switch (Math.floor(rnd() * 11)) {
      case 0:
        return Math.floor(rnd() * 200) - 100;
      case 1:
        return (rnd() - 0.5) * 1e6;
      case 2:
        return Decimal128.fromString(((rnd() - 0.5) * 1000).toFixed(3));
      case 3:
        return Long.fromString(String(BigInt(Math.floor(rnd() * 1e6)) * 10000000000n + BigInt(Math.floor(rnd() * 3))));
      case 4:
        return ['', 'a', 'ab', 'a\u0000', 'b', 'é', '\uffff', '\u{1F600}', 'Z'][Math.floor(rnd() * 9)];
      case 5:
        return new Date(Math.floor(rnd() * 1e12) - 5e11);
      case 6:
        return new ObjectId(Buffer.from(Array.from({ length: 12 }, () => Math.floor(rnd() * 3))));
      case 7:
        return rnd() < 0.5;
      case 8:
        return null;
      case 9:
        return { a: Math.floor(rnd() * 3), b: rnd() < 0.5 ? 'x' : 'y' };
      default:
        return [Math.floor(rnd() * 3), 'k'];
    }
  }

  it('memcmp(key(a), key(b)) has the sign of compareBson(a, b) (equality exact across number types)', () => {
    let seed = 12345;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const values = Array.from({ length: 400 }, () => randomValue(rnd));
    values.push(5, new Int32(5), Long.fromNumber(5), Decimal128.fromString('5.000'), new Double(5));
    for (let i = 0; i < values.length; i++) {
      for (let j = 0; j < values.length; j++) {
        const a = values[i];
        const b = values[j];
        const objects = typeof a === 'object' && a !== null && !(a instanceof Date) && (a.constructor === Object || Array.isArray(a));
        const cmp = Math.sign(compareBson(a, b));
        const kcmp = Math.sign(Buffer.compare(encodeKey(a), encodeKey(b)));
        if (cmp === 0) assert.equal(kcmp, 0, `equal values, different keys: ${canonical({ a })} ${canonical({ b })}`);
        else if (!objects) assert.equal(kcmp, cmp, `order differs: ${canonical({ a })} vs ${canonical({ b })}`);
        else assert.notEqual(kcmp, 0);
      }
    }
  });
});
