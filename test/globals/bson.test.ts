import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as vm from 'node:vm';
import * as bson from 'bson';
import { createBSONGlobal, createEJSONGlobal, minMaxKeyOf } from '../../src/runtime/globals/bson';

type Ctor = ((...args: unknown[]) => any) & (new (...args: unknown[]) => any) & Record<string, any>;
const BSON = createBSONGlobal() as unknown as Record<string, Ctor>;
const EJSON = createEJSONGlobal() as unknown as {
  parse(text: string): any;
  stringify(value: unknown, ...rest: unknown[]): string;
  serialize(value: unknown): any;
  deserialize(tree: unknown): any;
};

test('ObjectId works with and without new, keeps statics, and instanceof matches bson values', () => {
  const hex = '5e58667d902d38559c802b13';
  const a = BSON.ObjectId(hex);
  const b = new BSON.ObjectId(hex);
  assert.equal(a.toHexString(), hex);
  assert.ok(a.equals(b));
  assert.ok(a instanceof BSON.ObjectId);
  assert.ok(a instanceof bson.ObjectId);
  // A value made by the data layer (plain bson) is an instance of the global's ObjectId.
  assert.ok(new bson.ObjectId() instanceof BSON.ObjectId);
  assert.notEqual(BSON.ObjectId().toHexString(), BSON.ObjectId().toHexString());
  assert.equal(BSON.ObjectId.isValid(hex), true);
  assert.equal(BSON.ObjectId.isValid('zz'), false);
  assert.equal(BSON.ObjectId.createFromHexString(hex).toHexString(), hex);
  assert.throws(() => BSON.ObjectId('not-hex'), /24 character hex string/);
});

test('numeric constructors callable without new, as in the App Services docs', () => {
  assert.equal(BSON.Int32(42).value, 42);
  assert.equal(BSON.Int32().value, 0);
  assert.equal(BSON.Double(1234.5678).value, 1234.5678);
  assert.equal(BSON.Double().value, 0);
  // Docs: BSON.Long(600206158, 342) = 342 * 2**32 + 600206158
  assert.equal(BSON.Long(600206158, 342).toString(), String(342n * 2n ** 32n + 600206158n));
  assert.equal(BSON.Long().toString(), '0');
  assert.equal(BSON.Long.fromString('9223372036854775807').toString(), '9223372036854775807');
  assert.equal(BSON.Decimal128.fromString('9823.1297').toString(), '9823.1297');
  assert.equal(BSON.Decimal128('1.5').toString(), '1.5');
  assert.ok(BSON.Long(1, 0) instanceof bson.Long);
  const ts = BSON.Timestamp({ t: 1565545664, i: 1 });
  assert.equal(ts.t, 1565545664);
  assert.equal(ts.i, 1);
  const legacy = BSON.Timestamp(7, 1565545664); // (low = increment, high = seconds)
  assert.equal(legacy.t, 1565545664);
  assert.equal(legacy.i, 7);
  assert.ok(BSON.MinKey() instanceof bson.MinKey);
  assert.ok(new BSON.MaxKey() instanceof bson.MaxKey);
  assert.equal(BSON.UUID('0123456789abcdef0123456789abcdef').toHexString(false), '0123456789abcdef0123456789abcdef');
});

test('BSONRegExp drops JS-only flags (the docs pass "ig") and refuses unknown ones', () => {
  const r = BSON.BSONRegExp('the great', 'ig');
  assert.equal(r.pattern, 'the great');
  assert.equal(r.options, 'i');
  assert.ok(r instanceof bson.BSONRegExp);
  assert.equal(new BSON.BSONRegExp('^a', 'mi').options, 'im');
  assert.throws(() => BSON.BSONRegExp('a', 'q'), /unsupported regular expression flag "q"/);
});

test('Binary helpers: fromHex/fromBase64/toHex/toBase64/text', () => {
  const b64 = 'VGVzdCBtZXNzYWdlIHBsZWFzZSBpZ25vcmU=';
  const bin = BSON.Binary.fromBase64(b64);
  assert.equal(bin.text(), 'Test message please ignore');
  assert.equal(bin.toBase64(), b64);
  assert.equal(bin.toHex(), '54657374206d65737361676520706c656173652069676e6f7265');
  assert.equal(BSON.Binary.fromHex('54657374').text(), 'Test');
  assert.equal(BSON.Binary.fromHex('00ff', 5).sub_type, 5);
  assert.equal(BSON.Binary.fromBase64('AAAA').toHex(), '000000');
  assert.ok(bin instanceof bson.Binary);
  // Values from the data layer get the helpers too.
  assert.equal((new bson.Binary(Buffer.from('héllo')) as unknown as { text(): string }).text(), 'héllo');
  assert.throws(() => BSON.Binary.fromBase64('VGVzdA'), /padding/);
  assert.throws(() => BSON.Binary.fromBase64('VGV$dA=='), /not valid base64/);
  assert.throws(() => BSON.Binary.fromHex('abc'), /even number of hex digits/);
  assert.throws(() => BSON.Binary.fromHex('zz'), /hex digits/);
  assert.throws(() => BSON.Binary.fromHex('00', 256), /subType/);
  assert.equal(BSON.Binary(Buffer.from('x')).text(), 'x');
});

test('globals and bson classes are frozen; bson keeps working afterwards', () => {
  assert.ok(Object.isFrozen(BSON));
  assert.ok(Object.isFrozen(BSON.ObjectId));
  assert.ok(Object.isFrozen(bson.ObjectId.prototype));
  assert.ok(Object.isFrozen(EJSON));
  const oid = BSON.ObjectId('5e58667d902d38559c802b13');
  assert.throws(() => {
    'use strict';
    (bson.ObjectId.prototype as any).toHexString = () => 'evil';
  }, TypeError);
  assert.throws(() => {
    (oid.constructor as any).createFromHexString = () => 'evil';
  }, TypeError);
  assert.throws(() => {
    (BSON as any).ObjectId = null;
  }, TypeError);
  assert.equal(oid.toHexString(), '5e58667d902d38559c802b13');
  // Serialization, generation and EJSON of every class still work with frozen prototypes.
  const doc = {
    _id: new bson.ObjectId(),
    bin: new bson.Binary(Buffer.from('x'), 0),
    long: bson.Long.fromString('9007199254740993'),
    ts: new bson.Timestamp({ t: 1, i: 2 }),
    dec: bson.Decimal128.fromString('1.10'),
    re: new bson.BSONRegExp('a', 'i'),
    min: new bson.MinKey(),
    code: new bson.Code('x', { a: 1 }),
    uuid: new bson.UUID(),
    i32: new bson.Int32(3),
    dbl: new bson.Double(2.5),
  };
  const back = bson.deserialize(bson.serialize(doc), { promoteValues: false });
  assert.equal(back._id.toHexString(), doc._id.toHexString());
  assert.equal(back.long.toString(), '9007199254740993');
  assert.equal(back.dec.toString(), '1.10');
  assert.equal(bson.EJSON.stringify(doc).length > 0, true);
});

test('BSON.MinKey / BSON.MaxKey used bare as values (docs: {$lt: BSON.MaxKey}) serialize as the key types', () => {
  const bytes = bson.serialize({ a: BSON.MaxKey, b: BSON.MinKey });
  const back = bson.deserialize(bytes);
  assert.equal(back.a._bsontype, 'MaxKey');
  assert.equal(back.b._bsontype, 'MinKey');
  assert.equal(minMaxKeyOf(BSON.MaxKey)?._bsontype, 'MaxKey');
  assert.equal(minMaxKeyOf(() => 1), undefined);
  assert.equal(EJSON.stringify({ x: BSON.MaxKey }), '{"x":{"$maxKey":1}}');
});

test('EJSON.stringify: App Services docs example (integral -> $numberLong, Date canonical)', () => {
  const out = EJSON.stringify({ answer: 42, submittedAt: new Date('2020-03-02T16:46:47.977Z') });
  assert.equal(out, '{"answer":{"$numberLong":"42"},"submittedAt":{"$date":{"$numberLong":"1583167607977"}}}');
  assert.equal(EJSON.stringify({ x: 3.5, y: -0.25, z: 1e308 * 10 }), '{"x":{"$numberDouble":"3.5"},"y":{"$numberDouble":"-0.25"},"z":{"$numberDouble":"Infinity"}}');
  assert.equal(EJSON.stringify({ big: 2 ** 70 }), '{"big":{"$numberDouble":"1.1805916207174113e+21"}}');
  assert.equal(EJSON.stringify({ n: 2 ** 60 }), `{"n":{"$numberLong":"${2n ** 60n}"}}`);
  assert.equal(EJSON.stringify({ a: 1 }, null, 2), '{\n  "a": {\n    "$numberLong": "1"\n  }\n}');
  assert.equal(EJSON.stringify({ a: 1, d: new Date(0) }, { relaxed: true }), '{"a":1,"d":{"$date":"1970-01-01T00:00:00.000Z"}}');
  assert.equal(EJSON.stringify(undefined), undefined);
});

test('EJSON.parse: canonical and relaxed input become BSON / JS values', () => {
  const v = EJSON.parse(`{
    "answer": {"$numberLong": "42"}, "i": {"$numberInt": "-5"}, "d": {"$numberDouble": "1.5"},
    "inf": {"$numberDouble": "-Infinity"}, "big": {"$numberLong": "9007199254740993"},
    "when": {"$date": {"$numberLong": "1583167607977"}}, "when2": {"$date": "2021-12-03T17:08:30.749Z"},
    "id": {"$oid": "5e58667d902d38559c802b13"}, "dec": {"$numberDecimal": "128452.420523"},
    "bin": {"$binary": {"base64": "aGk=", "subType": "05"}}, "legacyBin": {"$binary": "aGk=", "$type": "0"},
    "uuid": {"$uuid": "01234567-89ab-cdef-0123-456789abcdef"},
    "re": {"$regularExpression": {"pattern": "^H", "options": "i"}}, "ts": {"$timestamp": {"t": 5, "i": 6}},
    "min": {"$minKey": 1}, "q": {"$gt": 1, "$lt": {"$numberInt": "9"}}, "arr": [{"$numberInt": "1"}, "x"],
    "nested": {"deep": {"id": {"$oid": "5e58667d902d38559c802b14"}}}
  }`);
  assert.equal(v.answer, 42);
  assert.equal(v.i, -5);
  assert.equal(v.d, 1.5);
  assert.equal(v.inf, -Infinity);
  assert.ok(v.big instanceof bson.Long);
  assert.equal(v.big.toString(), '9007199254740993');
  assert.equal(v.when.getTime(), 1583167607977);
  assert.equal(v.when2.toISOString(), '2021-12-03T17:08:30.749Z');
  assert.ok(v.id instanceof BSON.ObjectId);
  assert.equal(v.dec.toString(), '128452.420523');
  assert.equal(v.bin.sub_type, 5);
  assert.equal(v.bin.text(), 'hi');
  assert.equal(v.legacyBin.text(), 'hi');
  assert.equal(v.uuid.toHexString(false), '0123456789abcdef0123456789abcdef');
  assert.equal(v.re.pattern, '^H');
  assert.equal(v.ts.t, 5);
  assert.equal(v.min._bsontype, 'MinKey');
  assert.deepEqual(v.q, { $gt: 1, $lt: 9 });
  assert.deepEqual(v.arr, [1, 'x']);
  assert.equal(v.nested.deep.id.toHexString(), '5e58667d902d38559c802b14');
});

test('EJSON.parse refuses invalid values (policies "EJSON") with a clear error', () => {
  const bad: Array<[string, RegExp]> = [
    ['{"a":{"$date":"nope"}}', /invalid \$date value "nope"/],
    ['{"a":{"$numberLong":"x"}}', /invalid \$numberLong value "x"/],
    ['{"a":{"$oid":"zz"}}', /invalid \$oid value "zz"/],
    ['{"a":{"$numberInt":"1.5"}}', /invalid \$numberInt/],
    ['{"a":{"$numberInt":"3000000000"}}', /32-bit integer/],
    ['{"a":{"$numberLong":"9223372036854775808"}}', /64-bit integer/],
    ['{"a":{"$numberDouble":"abc"}}', /invalid \$numberDouble/],
    ['{"a":{"$numberDecimal":"abc"}}', /invalid \$numberDecimal/],
    ['{"a":{"$binary":{"base64":"!!","subType":"00"}}}', /invalid \$binary.base64/],
    ['{"a":{"$date":{"$numberLong":"1e5"}}}', /\$date.\$numberLong/],
    ['{"a":{"$timestamp":{"t":-1,"i":0}}}', /invalid \$timestamp/],
    ['{"a":{"$regularExpression":{"pattern":"a","options":"g"}}}', /invalid \$regularExpression/],
    ['{"a":{"$oid":123}}', /invalid \$oid/],
    ['{"a": 1', /EJSON: /],
  ];
  for (const [text, re] of bad) assert.throws(() => EJSON.parse(text), re, text);
  assert.throws(() => EJSON.parse(undefined as unknown as string), /expects a string/);
});

test('EJSON.parse keeps a "__proto__" key as data', () => {
  const v = EJSON.parse('{"__proto__": {"$oid": "5e58667d902d38559c802b13"}, "a": 1}');
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(v, '__proto__')?.value.toHexString(), '5e58667d902d38559c802b13');
});

test('EJSON round trip through serialize/deserialize keeps types', () => {
  const value = { id: new bson.ObjectId(), n: 7, f: 0.5, when: new Date(1700000000123), bin: new bson.Binary(Buffer.from([1, 2, 3]), 0) };
  const tree = EJSON.serialize(value);
  assert.deepEqual(tree.n, { $numberLong: '7' });
  const back = EJSON.deserialize(tree);
  assert.equal(back.id.toHexString(), value.id.toHexString());
  assert.equal(back.n, 7);
  assert.equal(back.f, 0.5);
  assert.equal(back.when.getTime(), 1700000000123);
  assert.equal(back.bin.toHex(), '010203');
  assert.equal(EJSON.parse(EJSON.stringify(value)).when.getTime(), 1700000000123);
});

test('works on values from a node:vm realm', () => {
  const ctx = vm.createContext({ BSON });
  const value = vm.runInContext('({ d: new Date(5), id: BSON.ObjectId("5e58667d902d38559c802b13"), n: [1, 2.5], o: { s: "x" } })', ctx);
  assert.equal(
    EJSON.stringify(value),
    '{"d":{"$date":{"$numberLong":"5"}},"id":{"$oid":"5e58667d902d38559c802b13"},"n":[{"$numberLong":"1"},{"$numberDouble":"2.5"}],"o":{"s":"x"}}',
  );
  const isOid = vm.runInContext('(v) => v instanceof BSON.ObjectId', ctx);
  assert.equal(isOid(new bson.ObjectId()), true);
});

test('EJSON bound to a vm realm: parsed Dates, objects and arrays are that realm\'s', () => {
  const ctx = vm.createContext({});
  const realm = vm.runInContext('({ JSON, Date })', ctx) as { JSON: JSON; Date: DateConstructor };
  const realmEJSON = createEJSONGlobal(realm) as unknown as typeof EJSON;
  ctx.EJSON = realmEJSON;
  ctx.BSON = BSON;
  const checks = vm.runInContext(
    `(() => { const v = EJSON.parse('{"when":{"$date":{"$numberLong":"5"}},"list":[1],"id":{"$oid":"5e58667d902d38559c802b13"}}');
      return [v.when instanceof Date, v instanceof Object, v.list instanceof Array, v.id instanceof BSON.ObjectId, v.when.getTime()]; })()`,
    ctx,
  );
  assert.deepEqual([...checks], [true, true, true, true, 5]);
  // The host-realm global is unchanged: its Dates are host Dates.
  assert.ok(EJSON.parse('{"$date":{"$numberLong":"5"}}') instanceof Date);
  assert.ok(Object.isFrozen(realmEJSON));
});
