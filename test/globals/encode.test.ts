import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as vm from 'node:vm';
import * as bson from 'bson';
import { encodeEJSON, encodeJSON } from '../../src/runtime/encode';
import { createBSONGlobal } from '../../src/runtime/globals/bson';

const oid = bson.ObjectId.createFromHexString('5d505646cf6d4fe581014ab2');

test('encodeJSON follows the §7.3 JSON column', () => {
  const value = {
    _id: oid,
    date: new Date(1641954803067),
    dec: bson.Decimal128.fromString('9823.1297'),
    dbl: new bson.Double(10.5),
    i32: new bson.Int32(10),
    i64: bson.Long.fromInt(50),
    bin: new bson.Binary(Buffer.from('46d989eaf0bde5258029534bc2dc2089', 'hex'), 5),
    re: new bson.BSONRegExp('^H', 'i'),
    jsRe: /^H/gi,
    ts: new bson.Timestamp({ t: 1565545664, i: 1 }),
    min: new bson.MinKey(),
    max: new bson.MaxKey(),
    arr: [1, 'a', null, true],
    nested: { doc: { n: 1.25 } },
  };
  assert.equal(
    encodeJSON(value),
    '{"_id":"5d505646cf6d4fe581014ab2","date":"2022-01-12T02:33:23.067Z","dec":"9823.1297","dbl":10.5,"i32":10,"i64":50,' +
      '"bin":{"Subtype":5,"Data":"RtmJ6vC95SWAKVNLwtwgiQ=="},"re":{"Pattern":"^H","Options":"i"},"jsRe":{"Pattern":"^H","Options":"i"},' +
      '"ts":{"T":1565545664,"I":1},"min":{},"max":{},"arr":[1,"a",null,true],"nested":{"doc":{"n":1.25}}}',
  );
});

test('encodeJSON: Go time format trims trailing zeros of the fraction', () => {
  assert.equal(encodeJSON(new Date('2022-01-12T02:33:23.000Z')), '"2022-01-12T02:33:23Z"');
  assert.equal(encodeJSON(new Date('2022-01-12T02:33:23.060Z')), '"2022-01-12T02:33:23.06Z"');
  assert.equal(encodeJSON(new Date('2022-01-12T02:33:23.100Z')), '"2022-01-12T02:33:23.1Z"');
  assert.equal(encodeJSON(new Date(NaN)), 'null');
});

test('encodeJSON: numbers, undefined, UUID, exact int64, NaN', () => {
  assert.equal(encodeJSON(undefined), '');
  assert.equal(encodeJSON(() => 1), '');
  assert.equal(encodeJSON(null), 'null');
  assert.equal(encodeJSON('hi'), '"hi"');
  assert.equal(encodeJSON({ a: undefined, b: [undefined], c: NaN, d: Infinity }), '{"b":[null],"c":null,"d":null}');
  assert.equal(encodeJSON({ l: bson.Long.fromString('9007199254740993') }), '{"l":9007199254740993}');
  assert.equal(encodeJSON({ l: bson.Long.fromString('-9223372036854775808') }), '{"l":-9223372036854775808}');
  assert.equal(encodeJSON({ b: 2n ** 62n }), `{"b":${2n ** 62n}}`);
  assert.equal(encodeJSON(new bson.UUID('0123456789abcdef0123456789abcdef')), '{"Subtype":4,"Data":"ASNFZ4mrze8BI0VniavN7w=="}');
  assert.equal(encodeJSON(Buffer.from('hi')), '{"Subtype":0,"Data":"aGk="}');
});

test('encodeEJSON is canonical EJSON with the App Services number rule', () => {
  const value = {
    _id: oid,
    date: new Date(1683248523456),
    n: 42,
    f: 3.14159,
    dec: bson.Decimal128.fromString('9823.1297'),
    dbl: new bson.Double(10),
    i32: new bson.Int32(10),
    i64: bson.Long.fromInt(50),
    bin: new bson.Binary(Buffer.from('hi'), 5),
    re: new bson.BSONRegExp('^H', 'i'),
    ts: new bson.Timestamp({ t: 1565545664, i: 1 }),
    min: new bson.MinKey(),
    max: new bson.MaxKey(),
  };
  assert.equal(
    encodeEJSON(value),
    '{"_id":{"$oid":"5d505646cf6d4fe581014ab2"},"date":{"$date":{"$numberLong":"1683248523456"}},"n":{"$numberLong":"42"},' +
      '"f":{"$numberDouble":"3.14159"},"dec":{"$numberDecimal":"9823.1297"},"dbl":{"$numberDouble":"10.0"},"i32":{"$numberInt":"10"},' +
      '"i64":{"$numberLong":"50"},"bin":{"$binary":{"base64":"aGk=","subType":"05"}},' +
      '"re":{"$regularExpression":{"pattern":"^H","options":"i"}},"ts":{"$timestamp":{"t":1565545664,"i":1}},' +
      '"min":{"$minKey":1},"max":{"$maxKey":1}}',
  );
  assert.equal(encodeEJSON(undefined), '');
  assert.equal(encodeEJSON({ message: 'hi' }), '{"message":"hi"}');
  assert.equal(encodeEJSON([NaN, -0]), '[{"$numberDouble":"NaN"},{"$numberLong":"0"}]');
  // bson's own parser reads it back to the same types.
  const back = bson.EJSON.parse(encodeEJSON(value), { relaxed: false });
  assert.equal(back.i64._bsontype, 'Long');
  assert.equal(back.n._bsontype, 'Long');
  assert.equal(back.dbl._bsontype, 'Double');
});

test('plain objects are not copied and not changed', () => {
  const value = { message: 'hi', nested: { list: [1, 2, { x: 'y' }] } };
  const before = JSON.stringify(value);
  assert.equal(encodeJSON(value), before);
  assert.equal(JSON.stringify(value), before);
  const withDate = { when: new Date(0), keep: { a: 1 } };
  encodeJSON(withDate);
  assert.ok(withDate.when instanceof Date, 'the input is not mutated');
});

test('values from another realm (node:vm) encode like local ones', () => {
  const BSON = createBSONGlobal();
  const ctx = vm.createContext({ BSON });
  const value = vm.runInContext(
    `({ d: new Date(1641954803067), arr: [1, { r: /x/m }], o: Object.create(null), n: new Number(5),
        id: BSON.ObjectId("5d505646cf6d4fe581014ab2"), u8: new Uint8Array([1, 2]), m: new Map([[1, 2]]) })`,
    ctx,
  );
  assert.equal(
    encodeJSON(value),
    '{"d":"2022-01-12T02:33:23.067Z","arr":[1,{"r":{"Pattern":"x","Options":"m"}}],"o":{},"n":5,"id":"5d505646cf6d4fe581014ab2","u8":{"Subtype":0,"Data":"AQI="},"m":{}}',
  );
  assert.equal(
    encodeEJSON(value),
    '{"d":{"$date":{"$numberLong":"1641954803067"}},"arr":[{"$numberLong":"1"},{"r":{"$regularExpression":{"pattern":"x","options":"m"}}}],"o":{},"n":{"$numberLong":"5"},"id":{"$oid":"5d505646cf6d4fe581014ab2"},"u8":{"$binary":{"base64":"AQI=","subType":"00"}},"m":{}}',
  );
});

test('toJSON of non-BSON objects is honoured; a plain {_bsontype} from a request body is data', () => {
  class Money {
    constructor(private readonly cents: number) {}
    toJSON() {
      return { amount: this.cents / 100, at: new Date(0) };
    }
  }
  assert.equal(encodeJSON({ m: new Money(250) }), '{"m":{"amount":2.5,"at":"1970-01-01T00:00:00Z"}}');
  assert.equal(encodeJSON(JSON.parse('{"_bsontype":"ObjectId"}')), '{"_bsontype":"ObjectId"}');
  class Point {
    x = 1;
    y = 2;
  }
  assert.equal(encodeEJSON(new Point()), '{"x":{"$numberLong":"1"},"y":{"$numberLong":"2"}}');
});

test('circular structures fail with a clear error instead of overflowing the stack', () => {
  const a: Record<string, unknown> = { d: new Date(0) };
  a.self = a;
  assert.throws(() => encodeJSON(a), /circular reference/);
  assert.throws(() => encodeEJSON(a), /circular reference/);
});
