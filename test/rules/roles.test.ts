// Roles, fields, filters, document_filters and schema through the App Services client API over the real embedded
// store: what an application user may read and write, and that the system bypasses all of it.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { Decimal128, ObjectId } from 'bson';
import { closeDataSources, openDataSource } from '../../src/data';
import { wrapWithRules } from '../../src/data/rules';
import { DEFAULT_RULE, ITEMS_RULES, ORDERS_RULES, ORDERS_SCHEMA, PROFILES_RULES } from './fixture-rules';
import { appWithRules, clientFor, rejection, systemClient, tempDataDir, user } from './helpers';

const app = appWithRules({
  defaultRule: DEFAULT_RULE,
  collections: {
    'shop/orders': { rules: ORDERS_RULES, schema: ORDERS_SCHEMA },
    'shop/items': { rules: ITEMS_RULES },
    'shop/profiles': { rules: PROFILES_RULES },
    'shop/tickets': { rules: { roles: [{ name: 'owner', apply_when: { owner: '%%user.id' }, read: true, write: true }] } },
  },
});
const dataDir = tempDataDir();
const alice = user('alice');
const bob = user('bob');
const admin = user('admin-1');
const ids = { aliceOrder: new ObjectId(), bobOrder: new ObjectId(), sharedOrder: new ObjectId() };

const sys = () => systemClient(app, dataDir).db('shop');
const as = (who: ReturnType<typeof user>) => clientFor(app, dataDir, who).db('shop');

before(async () => {
  await sys().collection('orders').insertMany([
    { _id: ids.aliceOrder, owner_id: 'alice', item: 'book', qty: 2, status: 'new', tags: ['a'], internal: 'margin 40%', address: { city: 'Oslo', secretCode: '1234', zip: '01234' } },
    { _id: ids.bobOrder, owner_id: 'bob', item: 'lamp', qty: 1, status: 'paid', internal: 'vip' },
    { _id: ids.sharedOrder, owner_id: 'carol', item: 'map', qty: 3, shared: true, internal: 'x' },
  ]);
  await sys().collection('items').insertMany([
    { name: 'pen', published: true, cost: 1, price: 2 },
    { name: 'draft', published: false, cost: 5, price: 9 },
  ]);
  await sys().collection('profiles').insertMany([
    { user_id: 'alice', bio: 'hi' },
    { user_id: 'bob', bio: 'yo' },
  ]);
  await sys().collection('notes').insertOne({ text: 'readable by all' });
});

after(async () => {
  await closeDataSources();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('reads', () => {
  test('a user sees the documents a role applies to, and no others', async () => {
    const docs = await as(alice).collection('orders').find({}).toArray();
    assert.deepEqual(docs.map((d) => d.item).sort(), ['book', 'map']);
    assert.equal(await as(alice).collection('orders').findOne({ _id: ids.bobOrder }), null);
    assert.equal(await as(alice).collection('orders').count({}), 2);
    assert.deepEqual((await as(alice).collection('orders').distinct('item', {})).sort(), ['book', 'map']);
    assert.equal((await as(bob).collection('orders').find({}).toArray()).length, 2);
  });

  test('unreadable fields are absent, nested field rules apply', async () => {
    const mine = await as(alice).collection('orders').findOne({ _id: ids.aliceOrder });
    assert.ok(mine);
    assert.equal(mine.internal, undefined);
    assert.deepEqual(mine.address, { city: 'Oslo' });
    assert.equal(mine.status, 'new');
    assert.deepEqual(mine.tags, ['a']);
    const shared = await as(alice).collection('orders').findOne({ _id: ids.sharedOrder });
    assert.equal(shared?.internal, 'x', 'document-level read gives every field');
    // The system reads everything.
    assert.equal((await sys().collection('orders').findOne({ _id: ids.aliceOrder }))?.internal, 'margin 40%');
  });

  test('the caller projection applies after the rules', async () => {
    const [doc] = await as(alice).collection('orders').find({ _id: ids.aliceOrder }, { internal: 1, item: 1 }).toArray();
    assert.deepEqual(Object.keys(doc).sort(), ['_id', 'item']);
  });

  test('filters are merged into the query and projection', async () => {
    const docs = await as(alice).collection('items').find({}).toArray();
    assert.deepEqual(docs.map((d) => d.name), ['pen']);
    assert.equal(docs[0].cost, undefined);
    assert.equal(docs[0].price, 2);
    assert.equal(await as(alice).collection('items').count({}), 1);
    // A filter whose apply_when is false does not apply (type is "normal"); system sees both.
    assert.equal((await sys().collection('items').find({}).toArray()).length, 2);
    // A user without an email in data: the "published" filter does not apply.
    const noEmail = clientFor(app, dataDir, user('x', { data: {} })).db('shop');
    assert.equal(await noEmail.collection('items').count({}), 2);
  });

  test('filters also shape aggregations and distinct, on the fast path', async () => {
    const out = await as(alice).collection('items').aggregate([{ $project: { name: 1, cost: 1 } }]).toArray();
    assert.deepEqual(out.map((d) => [d.name, d.cost]), [['pen', undefined]]);
    assert.deepEqual(await as(alice).collection('items').distinct('cost', {}), []);
    assert.deepEqual(await as(alice).collection('items').distinct('name', {}), ['pen']);
    assert.deepEqual((await sys().collection('items').distinct('cost', {})).sort(), [1, 5]);
  });

  test('document_filters decide which documents a role may see and write', async () => {
    const mine = await as(alice).collection('profiles').find({}).toArray();
    assert.deepEqual(mine.map((d) => d.user_id), ['alice']);
    const r = await as(alice).collection('profiles').updateMany({}, { $set: { bio: 'changed' } });
    assert.deepEqual(r, { matchedCount: 1, modifiedCount: 1 });
    const bobs = await sys().collection('profiles').findOne({ user_id: 'bob' });
    assert.equal(bobs?.bio, 'yo');
  });

  test('aggregation sees only what the user may read', async () => {
    const [g] = (await as(alice).collection('orders').aggregate([{ $group: { _id: null, n: { $sum: 1 }, items: { $push: '$item' }, internal: { $push: '$internal' } } }]).toArray()) as Array<{ n: number; items: string[]; internal: unknown[] }>;
    assert.equal(g.n, 2);
    assert.deepEqual(g.items.sort(), ['book', 'map']);
    assert.deepEqual(g.internal.filter((v) => v !== null), ['x'], 'hidden fields never enter the pipeline');
    const matched = await as(alice).collection('orders').aggregate([{ $match: { item: 'lamp' } }]).toArray();
    assert.deepEqual(matched, []);
  });

  test('$lookup joins only what the user may read of the other collection', async () => {
    const out = (await as(alice).collection('profiles').aggregate([{ $lookup: { from: 'orders', localField: 'user_id', foreignField: 'owner_id', as: 'orders' } }]).toArray()) as Array<{ orders: Array<Record<string, unknown>> }>;
    assert.equal(out.length, 1);
    assert.equal(out[0].orders.length, 1);
    assert.equal(out[0].orders[0].internal, undefined);
  });
});

describe('writes', () => {
  test('a user cannot update or delete another user\'s document', async () => {
    const coll = as(alice).collection('orders');
    assert.deepEqual(await coll.updateOne({ _id: ids.bobOrder }, { $set: { item: 'stolen' } }), { matchedCount: 0, modifiedCount: 0 });
    assert.deepEqual(await coll.deleteOne({ _id: ids.bobOrder }), { deletedCount: 0 });
    assert.equal(await coll.findOneAndUpdate({ _id: ids.bobOrder }, { $set: { item: 'stolen' } }), null);
    assert.deepEqual(await coll.deleteMany({ owner_id: 'bob' }), { deletedCount: 0 });
    const b = await sys().collection('orders').findOne({ _id: ids.bobOrder });
    assert.equal(b?.item, 'lamp');
  });

  test('a read-only role cannot change or delete a document it sees', async () => {
    const coll = as(alice).collection('orders');
    const e1 = await rejection(coll.updateOne({ _id: ids.sharedOrder }, { $set: { item: 'x' } }));
    assert.equal(e1.message, 'update not permitted');
    assert.match(e1.ruleDetail ?? '', /roles\[2\] \("reader"\)/);
    const e2 = await rejection(coll.deleteOne({ _id: ids.sharedOrder }));
    assert.equal(e2.message, 'delete not permitted');
  });

  test('field-level write: $push, $pull, $addToSet, $unset of a read-only field are refused, other fields change', async () => {
    const coll = as(alice).collection('orders');
    for (const update of [{ $push: { tags: 'b' } }, { $pull: { tags: 'a' } }, { $addToSet: { tags: 'c' } }, { $unset: { status: '' } }, { $set: { 'address.secretCode': '0000' } }, { $set: { internal: 'mine' } }]) {
      const err = await rejection(coll.updateOne({ _id: ids.aliceOrder }, update));
      assert.equal(err.message, 'update not permitted', JSON.stringify(update));
      assert.match(err.ruleDetail ?? '', /"owner"/);
    }
    const e = await rejection(coll.updateOne({ _id: ids.aliceOrder }, { $push: { tags: 'b' } }));
    assert.match(e.ruleDetail ?? '', /field "tags"/);
    // $addToSet of a value already there changes nothing, so it touches nothing.
    assert.deepEqual(await coll.updateOne({ _id: ids.aliceOrder }, { $addToSet: { tags: 'a' } }), { matchedCount: 1, modifiedCount: 0 });
    assert.deepEqual(await coll.updateOne({ _id: ids.aliceOrder }, { $set: { item: 'novel', 'address.city': 'Bergen' }, $inc: { qty: 1 } }), { matchedCount: 1, modifiedCount: 1 });
    const now = (await sys().collection('orders').findOne({ _id: ids.aliceOrder })) as { item: string; address: { city: string }; qty: number; tags: string[] };
    assert.deepEqual([now.item, now.address.city, now.qty, now.tags], ['novel', 'Bergen', 3, ['a']]);
  });

  test('inserts: a role must apply to the new document, every field must be writable, insert must hold', async () => {
    const coll = as(alice).collection('orders');
    const ok = await coll.insertOne({ owner_id: 'alice', item: 'pencil', qty: 1 });
    assert.ok(ok.insertedId instanceof ObjectId);
    const e1 = await rejection(coll.insertOne({ owner_id: 'alice', item: 'pencil', status: 'paid' }));
    assert.equal(e1.message, 'insert not permitted');
    assert.match(e1.ruleDetail ?? '', /field "status"/);
    const e2 = await rejection(coll.insertOne({ owner_id: 'bob', item: 'gift' }));
    assert.equal(e2.message, 'insert not permitted');
    assert.match(e2.ruleDetail ?? '', /no role/);
    const e3 = await rejection(as(alice).collection('notes').insertOne({ text: 'x' }));
    assert.equal(e3.message, 'insert not permitted');
    assert.match(e3.ruleDetail ?? '', /default_rule\.json/);
    assert.equal(await sys().collection('orders').countDocuments({ item: 'gift' }), 0);
    // The default rule lets the collection be read.
    assert.equal((await as(alice).collection('notes').findOne({}))?.text, 'readable by all');
  });

  test('upserts are checked as inserts', async () => {
    const coll = as(alice).collection('orders');
    const r = await coll.updateOne({ owner_id: 'alice', item: 'upserted' }, { $set: { qty: 4 } }, { upsert: true });
    assert.ok(r.upsertedId instanceof ObjectId);
    const e = await rejection(coll.updateOne({ owner_id: 'dave', item: 'x' }, { $set: { qty: 4 } }, { upsert: true }));
    assert.equal(e.message, 'insert not permitted');
    const doc = await coll.findOneAndUpdate({ owner_id: 'alice', item: 'fresh' }, { $set: { qty: 7 } }, { upsert: true, returnNewDocument: true });
    assert.deepEqual([doc?.owner_id, doc?.item, doc?.qty], ['alice', 'fresh', 7]);
    const e2 = await rejection(coll.findOneAndUpdate({ owner_id: 'alice', item: 'fresh2' }, { $set: { status: 'paid' } }, { upsert: true }));
    assert.equal(e2.message, 'insert not permitted');
  });

  test('findOneAndUpdate / findOneAndDelete return what the user may read', async () => {
    const coll = as(alice).collection('orders');
    const id = (await coll.insertOne({ owner_id: 'alice', item: 'cup', qty: 1 })).insertedId;
    await sys().collection('orders').updateOne({ _id: id }, { $set: { internal: 'secret' } });
    const after = await coll.findOneAndUpdate({ _id: id }, { $set: { item: 'mug' } }, { returnNewDocument: true });
    assert.equal(after?.item, 'mug');
    assert.equal(after?.internal, undefined);
    const e = await rejection(coll.findOneAndUpdate({ _id: id }, { $set: { internal: 'y' } }));
    assert.equal(e.message, 'update not permitted');
    const err = await rejection(coll.findOneAndDelete({ _id: id }));
    assert.equal(err.message, 'delete not permitted', 'deleting needs write on every field, and "internal" is not writable');
    await sys().collection('orders').updateOne({ _id: id }, { $unset: { internal: '' } });
    const deleted = await coll.findOneAndDelete({ _id: id });
    assert.equal(deleted?.item, 'mug');
    assert.equal(await sys().collection('orders').findOne({ _id: id }), null);
  });

  test('bulkWrite reports the refused operation like the driver', async () => {
    const coll = as(alice).collection('orders');
    const err = (await rejection(
      coll.bulkWrite([{ insertOne: { document: { owner_id: 'alice', item: 'bulk-1' } } }, { updateOne: { filter: { _id: ids.sharedOrder }, update: { $set: { item: 'no' } } } }, { insertOne: { document: { owner_id: 'alice', item: 'bulk-2' } } }], { ordered: true }),
    )) as Error & { writeErrors?: Array<{ index: number; errmsg: string }> };
    assert.equal(err.name, 'MongoBulkWriteError');
    assert.deepEqual(err.writeErrors?.map((w) => [w.index, w.errmsg]), [[1, 'update not permitted']]);
    assert.equal(await sys().collection('orders').countDocuments({ item: 'bulk-1' }), 1);
    assert.equal(await sys().collection('orders').countDocuments({ item: 'bulk-2' }), 0);
  });

  test('updateOne/deleteOne find the first document the user may write, past many they may not', async () => {
    await sys().collection('tickets').insertMany(Array.from({ length: 250 }, (_, i) => ({ n: i, owner: i === 230 ? 'alice' : 'bob' })));
    const coll = as(alice).collection('tickets');
    assert.deepEqual(await coll.updateOne({}, { $set: { seen: true } }), { matchedCount: 1, modifiedCount: 1 });
    assert.equal((await sys().collection('tickets').findOne({ seen: true }))?.n, 230);
    assert.deepEqual(await coll.deleteOne({}), { deletedCount: 1 });
    assert.deepEqual(await coll.deleteOne({}), { deletedCount: 0 });
    assert.equal(await sys().collection('tickets').countDocuments({}), 249);
  });

  test('an admin role with document-level write may write any field', async () => {
    const r = await as(admin).collection('orders').updateOne({ _id: ids.bobOrder }, { $set: { internal: 'audited' }, $push: { tags: 'checked' } });
    assert.deepEqual(r, { matchedCount: 1, modifiedCount: 1 });
  });
});

describe('schema', () => {
  test('a write that breaks the schema is refused with the path of the failing field', async () => {
    const coll = as(admin).collection('orders');
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ owner_id: 'admin-1', item: '' }, /\bitem: String length must be greater than or equal to 1/],
      [{ owner_id: 'admin-1' }, /\(root\): item is required/],
      [{ owner_id: 'admin-1', item: 'x', qty: 500 }, /\bqty: Must be less than or equal to 100/],
      [{ owner_id: 'admin-1', item: 'x', qty: 1.5 }, /\bqty: Invalid type/],
      [{ owner_id: 'admin-1', item: 'x', tags: ['ok', 7] }, /\btags\.1: Invalid type/],
      [{ owner_id: 'admin-1', item: 'x', address: { zip: 'abc' } }, /\baddress\.zip: Does not match pattern/],
      [{ owner_id: 'admin-1', item: 'x', status: 'lost' }, /\bstatus must be one of/],
      [{ owner_id: 7, item: 'x' }, /\bowner_id: Invalid type/],
      [{ owner_id: 'admin-1', item: 'x', price: 3 }, /\bprice: Invalid type/],
    ];
    for (const [doc, pattern] of cases) {
      const err = await rejection(coll.insertOne(doc));
      assert.equal(err.codeName, 'SchemaValidationFailedWrite', JSON.stringify(doc));
      assert.match(err.message, pattern);
      assert.match(err.ruleDetail ?? '', /schema\.json/);
    }
    assert.ok((await coll.insertOne({ owner_id: 'admin-1', item: 'x', price: Decimal128.fromString('9.99'), created: new Date(), qty: 5, status: null })).insertedId);
  });

  test('updates are validated on the document after the update; validate sees %%this and %%prev', async () => {
    const coll = as(alice).collection('orders');
    const id = (await coll.insertOne({ owner_id: 'alice', item: 'kite', qty: 5 })).insertedId;
    const err = await rejection(coll.updateOne({ _id: id }, { $inc: { qty: -1 } }));
    assert.equal(err.codeName, 'SchemaValidationFailedWrite');
    assert.match(err.message, /\bqty\b/);
    assert.deepEqual(await coll.updateOne({ _id: id }, { $inc: { qty: 1 } }), { matchedCount: 1, modifiedCount: 1 });
    const e2 = await rejection(coll.updateOne({ _id: id }, { $set: { qty: 101 } }));
    assert.match(e2.message, /qty: Must be less than or equal to 100/);
    const e3 = await rejection(coll.replaceOne({ _id: id }, { owner_id: 'alice' }));
    assert.match(e3.message, /item is required/);
    assert.equal((await sys().collection('orders').findOne({ _id: id }))?.qty, 6);
  });

  test('system writes are not validated', async () => {
    const r = await sys().collection('orders').insertOne({ owner_id: 'alice', item: '', qty: 'many' });
    assert.ok(r.insertedId);
  });
});

describe('user restrictions and no rules', () => {
  test('query operators App Services reserves for system functions are refused; $regex is allowed', async () => {
    const coll = as(alice).collection('orders');
    for (const q of [{ $where: 'true' }, { $expr: { $eq: ['$item', 'book'] } }, { qty: { $bitsAllSet: 1 } }, { $jsonSchema: {} }, { $or: [{ $text: { $search: 'x' } }] }]) {
      const err = await rejection(coll.find(q).toArray());
      assert.match(err.message, /not allowed for application users/, JSON.stringify(q));
    }
    const found = await coll.find({ item: { $regex: '^nov' } }).toArray();
    assert.deepEqual(found.map((d) => d.item), ['novel']);
  });

  test('aggregation stages App Services reserves for system functions are refused', async () => {
    for (const stage of [{ $out: 'x' }, { $merge: { into: 'x' } }, { $facet: { a: [] } }, { $graphLookup: { from: 'orders', startWith: '$a', connectFromField: 'a', connectToField: 'b', as: 'c' } }, { $collStats: {} }]) {
      const err = await rejection(as(alice).collection('orders').aggregate([stage]).toArray());
      assert.match(err.message, /not allowed for application users/, JSON.stringify(stage));
    }
    const err = await rejection(as(alice).collection('orders').aggregate([{ $addFields: { x: { $function: { body: 'function(){}', args: [], lang: 'js' } } } }]).toArray());
    assert.match(err.message, /\$function/);
  });

  test('a collection with no rules and no default rule: no rule exists for namespace', async () => {
    const bare = appWithRules({ collections: { 'shop/orders': { rules: ORDERS_RULES } } });
    const err = await rejection(clientFor(bare, dataDir, alice).db('shop').collection('notes').find({}).toArray());
    assert.equal(err.message, "no rule exists for namespace 'shop.notes'");
    assert.equal(err.codeName, 'NoMatchingRuleFound');
    // The collection that has rules still works.
    assert.equal((await clientFor(bare, dataDir, alice).db('shop').collection('orders').find({ owner_id: 'alice' }).toArray()).length > 0, true);
  });

  test('%%request, %%environment and %%values reach apply_when', async () => {
    const gated = appWithRules({
      collections: { 'shop/notes': { rules: { roles: [{ name: 'office', apply_when: { '%%request.remoteIPAddress': '10.0.0.1', '%%environment.tag': 'production', '%%values.adminIds': 'admin-1' }, read: true }] } } },
    });
    const inOffice = clientFor(gated, dataDir, alice, { request: { remoteIPAddress: '10.0.0.1' } }).db('shop');
    const outside = clientFor(gated, dataDir, alice, { request: { remoteIPAddress: '10.9.9.9' } }).db('shop');
    assert.equal((await inOffice.collection('notes').find({}).toArray()).length, 1);
    assert.equal((await outside.collection('notes').find({}).toArray()).length, 0);
  });

  test('%function in a rule calls the app function it is given', async () => {
    const calls: unknown[] = [];
    const fnApp = appWithRules({
      collections: { 'shop/notes': { rules: { roles: [{ name: 'fn', apply_when: { '%%true': { '%function': { name: 'isAllowed', arguments: ['%%user.id', '%%root.text'] } } }, read: true }] } } },
    });
    const callFunction = async (name: string, args: unknown[]): Promise<unknown> => {
      calls.push([name, ...args]);
      return args[0] === 'alice';
    };
    assert.equal((await clientFor(fnApp, dataDir, alice, { callFunction }).db('shop').collection('notes').find({}).toArray()).length, 1);
    assert.equal((await clientFor(fnApp, dataDir, bob, { callFunction }).db('shop').collection('notes').find({}).toArray()).length, 0);
    assert.deepEqual(calls[0], ['isAllowed', 'alice', 'readable by all']);
  });

  test('system identities get the data source itself', () => {
    const source = openDataSource('mongodb-atlas', dataDir);
    assert.equal(wrapWithRules(source, app, 'mongodb-atlas', { user: alice, runAsSystem: true }), source);
    assert.notEqual(wrapWithRules(source, app, 'mongodb-atlas', { user: alice, runAsSystem: false }), source);
  });
});
