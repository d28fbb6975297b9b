// The shared rule-expression evaluator (§12.3), as used by can_evaluate and (later) roles/filters.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Long, ObjectId, UUID, Int32 } from 'bson';
import {
  evaluateExpression,
  evaluateExpressionSync,
  expandValueSync,
  ExpressionError,
  usesFunctions,
} from '../../src/data/rules/expression';
import type { ExpressionContext } from '../../src/data/rules/expression';

const user = {
  id: '5f1b2c3d4e5f6a7b8c9d0e1f',
  type: 'normal',
  data: { email: 'ana@example.com', age: 31 },
  custom_data: { role: 'admin', teams: ['red', 'blue'] },
  identities: [{ id: 'x1', provider_type: 'local-userpass' }],
};
const request = {
  remoteIPAddress: '10.1.2.3',
  httpMethod: 'POST',
  requestHeaders: { 'X-Secret-Key': ['my-secret'], 'Content-Type': ['application/json'] },
  rawQueryString: 'a=1',
};
const ctx: ExpressionContext = {
  user,
  request,
  values: { allowedIps: ['10.1.2.3', '10.1.2.4'], admins: ['5f1b2c3d4e5f6a7b8c9d0e1f'], limit: 10 },
  environment: { tag: 'production', values: { baseUrl: 'https://x' } },
};

const sync = (e: unknown, c: ExpressionContext = ctx): boolean => evaluateExpressionSync(e, c);

test('booleans and the empty object', () => {
  assert.equal(sync(true), true);
  assert.equal(sync(false), false);
  assert.equal(sync({}), true);
});

test('equality between an expansion and a literal or another expansion', () => {
  assert.equal(sync({ '%%user.data.email': 'ana@example.com' }), true);
  assert.equal(sync({ '%%user.data.email': 'bob@example.com' }), false);
  assert.equal(sync({ '%%user.id': '%%values.admins.0' }), true);
  assert.equal(sync({ '%%environment.tag': 'production', '%%environment.values.baseUrl': { '%exists': true } }), true);
  assert.equal(sync({ '%%environment.tag': 'development' }), false);
});

test('header expansions are case-insensitive and an array value matches any element', () => {
  assert.equal(sync({ '%%request.requestHeaders.x-secret-key': 'my-secret' }), true);
  assert.equal(sync({ '%%request.requestHeaders.X-SECRET-KEY': 'wrong' }), false);
  assert.equal(sync({ '%%request.requestHeaders.x-missing': { $exists: false } }), true);
  // Case-insensitive lookup is only for headers, not for other objects.
  assert.equal(sync({ '%%user.data.EMAIL': { $exists: true } }), false);
});

test('comparison operators, $in/$nin with literal lists and expansions, both prefixes', () => {
  assert.equal(sync({ '%%request.remoteIPAddress': { $in: '%%values.allowedIps' } }), true);
  assert.equal(sync({ '%%request.remoteIPAddress': { '%nin': '%%values.allowedIps' } }), false);
  assert.equal(sync({ '%%request.remoteIPAddress': { $nin: ['1.1.1.1'] } }), true);
  assert.equal(sync({ '%%user.data.age': { $gt: 30, $lte: 31 } }), true);
  assert.equal(sync({ '%%user.data.age': { $gte: 32 } }), false);
  assert.equal(sync({ '%%user.data.age': { $lt: '%%values.limit' } }), false);
  assert.equal(sync({ '%%user.data.age': { $ne: 30 } }), true);
  assert.equal(sync({ '%%user.data.age': { '%eq': 31 } }), true);
  // Mixed types never compare.
  assert.equal(sync({ '%%user.data.email': { $gt: 5 } }), false);
  // Arrays on the left: any element.
  assert.equal(sync({ '%%user.custom_data.teams': 'blue' }), true);
  assert.equal(sync({ '%%user.custom_data.teams': { $in: ['green', 'red'] } }), true);
  assert.equal(sync({ '%%user.custom_data.teams': { $in: ['green'] } }), false);
});

test('identities can be read as provider_type or providerType through array paths', () => {
  assert.equal(sync({ '%%user.identities.providerType': 'local-userpass' }), true);
  assert.equal(sync({ '%%user.identities.provider_type': 'api-key' }), false);
});

test('logical operators at the top and inside a field', () => {
  const inRange = { '%%args.someNumber': { '%and': [{ $gt: 0 }, { $lte: 42 }] } };
  const withArgs = (n: unknown): ExpressionContext => ({ ...ctx, args: { someNumber: n } });
  assert.equal(sync(inRange, withArgs(42)), true);
  assert.equal(sync(inRange, withArgs(43)), false);
  assert.equal(sync(inRange, withArgs(0)), false);
  assert.equal(sync({ '%or': [{ '%%user.type': 'server' }, { '%%user.custom_data.role': 'admin' }] }), true);
  assert.equal(sync({ '%or': [{ '%%user.type': 'server' }, { '%%user.custom_data.role': 'guest' }] }), false);
  assert.equal(sync({ '%and': [{ '%%user.type': 'normal' }, { '%%environment.tag': 'production' }] }), true);
  assert.equal(sync({ '%nor': [{ '%%user.type': 'server' }] }), true);
  assert.equal(sync({ '%not': { '%%user.type': 'normal' } }), false);
  assert.equal(sync({ '%%user.data.age': { '%not': { $gt: 40 } } }), true);
  assert.equal(sync({ '%%user.data.age': { '%or': [{ $lt: 0 }, { $eq: 31 }] } }), true);
});

test('%%true / %%false with embedded expressions', () => {
  assert.equal(sync({ '%%true': { '%%user.type': 'normal' } }), true);
  assert.equal(sync({ '%%false': { '%%user.type': 'normal' } }), false);
  assert.equal(sync({ '%%false': { '%%user.type': 'server' } }), true);
  assert.equal(sync('%%true'), true);
});

test('plain field names point at %%root by default and %%args when asked', () => {
  const doc = { owner: user.id, status: 'new', n: new Int32(3) };
  assert.equal(sync({ owner: '%%user.id' }, { ...ctx, root: doc }), true);
  assert.equal(sync({ owner: '%%user.id' }, { ...ctx, root: { owner: 'someone' } }), false);
  assert.equal(sync({ n: 3 }, { ...ctx, root: doc }), true);
  assert.equal(sync({ url: { $exists: true } }, { ...ctx, defaultTarget: 'args', args: { url: 'https://x' } }), true);
  assert.equal(sync({ '%or': [{ '%%prevRoot': { '%exists': '%%true' } }, { '%%root.status': 'new' }] }, { ...ctx, root: doc }), true);
  assert.equal(sync({ '%or': [{ '%%prevRoot': { '%exists': '%%true' } }, { '%%root.status': 'new' }] }, { ...ctx, root: { status: 'old' } }), false);
});

test('conversion operators and BSON-aware equality', () => {
  const oid = new ObjectId(user.id);
  assert.equal(sync({ _id: { '%stringToOid': '%%user.id' } }, { ...ctx, root: { _id: oid } }), true);
  assert.equal(sync({ _id: { '%stringToOid': '%%user.id' } }, { ...ctx, root: { _id: user.id } }), false);
  assert.equal(sync({ '%%user.id': { '%oidToString': '%%root._id' } }, { ...ctx, root: { _id: oid } }), true);
  assert.equal(sync({ _id: { $oid: user.id } }, { ...ctx, root: { _id: oid } }), true);
  const u = new UUID();
  assert.equal(sync({ '%%root.u': { '%stringToUuid': u.toHexString(true) } }, { ...ctx, root: { u } }), true);
  assert.equal(sync({ '%%root.s': { '%uuidToString': '%%root.u' } }, { ...ctx, root: { u, s: u.toHexString(true) } }), true);
  assert.equal(sync({ '%%root.big': 5 }, { ...ctx, root: { big: Long.fromNumber(5) } }), true);
  assert.equal(sync({ '%%root.nothing': null }, { ...ctx, root: {} }), true);
});

test('expandValueSync substitutes expansions inside a filter query', () => {
  const q = expandValueSync({ owner_id: '%%user.id', tags: { $in: '%%user.custom_data.teams' } }, ctx);
  assert.deepEqual(q, { owner_id: user.id, tags: { $in: ['red', 'blue'] } });
});

test('%function calls the app function; a throw makes the field false; sync evaluation refuses it', async () => {
  const calls: Array<[string, unknown[]]> = [];
  const c: ExpressionContext = {
    ...ctx,
    callFunction: async (name, args) => {
      calls.push([name, args]);
      if (name === 'boom') throw new Error('nope');
      return name === 'isEven' ? (args[0] as number) % 2 === 0 : args;
    },
  };
  assert.equal(await evaluateExpression({ '%%true': { '%function': { name: 'isEven', arguments: [42] } } }, c), true);
  assert.equal(await evaluateExpression({ '%%true': { '%function': { name: 'isEven', arguments: [41] } } }, c), false);
  assert.equal(await evaluateExpression({ '%%true': { '%function': { name: 'boom', arguments: [] } } }, c), false);
  assert.equal(await evaluateExpression({ '%or': [{ '%%true': { '%function': { name: 'boom' } } }, { '%%user.type': 'normal' }] }, c), true);
  assert.deepEqual(calls[0], ['isEven', [42]]);
  // Expansions in arguments are resolved before the call.
  await evaluateExpression({ '%%true': { '%function': { name: 'echo', arguments: ['%%user.id'] } } }, c);
  assert.deepEqual(calls.at(-1), ['echo', [user.id]]);
  assert.throws(() => evaluateExpressionSync({ '%%true': { '%function': { name: 'isEven', arguments: [2] } } }, c), ExpressionError);
  assert.equal(usesFunctions({ a: { '%or': [{ b: { '%function': { name: 'f' } } }] } }), true);
  assert.equal(usesFunctions({ a: 1 }), false);
});

test('malformed expressions are reported, not silently true', async () => {
  assert.throws(() => sync({ '%%nosuch.x': 1 }), ExpressionError);
  assert.throws(() => sync({ '%%user.id': { $regexish: 'x' } }), ExpressionError);
  assert.throws(() => sync({ '%%user.id': { $eq: 'x', plain: 1 } }), ExpressionError);
  assert.throws(() => sync({ $in: [1] }), ExpressionError);
  assert.throws(() => sync('yes'), ExpressionError);
  assert.throws(() => sync({ '%or': { a: 1 } }), ExpressionError);
  await assert.rejects(evaluateExpression({ '%%true': { '%function': { name: 'f' } } }, ctx), ExpressionError);
});
