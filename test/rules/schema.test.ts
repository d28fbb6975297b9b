// The App Services JSON Schema validator on its own: every bsonType name, the keywords of §12.4, optional
// (nullable) properties, validate expressions, and failure paths.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Binary, BSONRegExp, Decimal128, Double, Int32, Long, ObjectId, Timestamp, UUID } from 'bson';
import { RuleContext } from '../../src/data/rules/rule-context';
import { compileSchema } from '../../src/data/rules/schema-compile';
import { validateDocument } from '../../src/data/rules/schema-validate';
import type { RuleProblem } from '../../src/data/rules/rule-types';
import type { SchemaFailure } from '../../src/data/rules/schema-types';

const ctx = new RuleContext({ user: { id: 'u1' }, values: {}, environment: { tag: '', values: {} } });

async function failures(schema: unknown, doc: Record<string, unknown>, prev?: Record<string, unknown>): Promise<SchemaFailure[]> {
  const problems: RuleProblem[] = [];
  const compiled = compileSchema(schema, 'schema.json', problems);
  assert.deepEqual(problems.filter((p) => p.level === 'error'), [], 'the schema compiles');
  return validateDocument(compiled, doc, prev, ctx);
}

async function valid(schema: unknown, doc: Record<string, unknown>, prev?: Record<string, unknown>): Promise<boolean> {
  return (await failures(schema, doc, prev)).length === 0;
}

describe('bsonType', () => {
  const cases: Array<[string, unknown[], unknown[]]> = [
    ['objectId', [new ObjectId()], ['5f1d7f1e8d2c3b4a5f6e7d8c', 1]],
    ['date', [new Date()], ['2020-01-01', 0]],
    ['decimal', [Decimal128.fromString('1.5')], [1.5, '1.5']],
    ['long', [Long.fromNumber(5), 5, 2 ** 40], [1.5, new Int32(1), 'x']],
    ['int', [new Int32(5), 5, -3], [1.5, 2 ** 40, Long.fromNumber(5), new Double(5)]],
    ['double', [1.5, new Double(2), 3], [new Int32(3), Decimal128.fromString('1')]],
    ['number', [1, 1.5, new Int32(1), Long.fromNumber(1), Decimal128.fromString('1'), new Double(1)], ['1', true]],
    ['binData', [new Binary(Buffer.from('ab')), new UUID()], ['ab']],
    ['uuid', [new UUID(), new Binary(Buffer.alloc(16), 4)], [new Binary(Buffer.from('ab')), 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6']],
    ['string', ['x', ''], [1, null]],
    ['bool', [true, false], [0, 'true']],
    ['array', [[], [1]], [{}, 'x']],
    ['object', [{}, { a: 1 }], [[], new Date()]],
    ['regex', [/x/, new BSONRegExp('x', 'i')], ['x']],
    ['timestamp', [new Timestamp({ t: 1, i: 1 })], [new Date()]],
    ['null', [null], [0, '']],
    ['mixed', [1, 'x', null, {}, [], new ObjectId()], []],
  ];
  for (const [type, good, bad] of cases) {
    test(type, async () => {
      const schema = { required: ['v'], properties: { v: { bsonType: type } } };
      for (const v of good) assert.equal(await valid(schema, { v }), true, `${type} accepts ${String(v)}`);
      for (const v of bad) assert.equal(await valid(schema, { v }), false, `${type} refuses ${String(v)}`);
    });
  }

  test('a list of bsonTypes, and JSON `type`', async () => {
    assert.equal(await valid({ properties: { v: { bsonType: ['string', 'int'] } } }, { v: 3 }), true);
    assert.equal(await valid({ properties: { v: { bsonType: ['string', 'int'] } } }, { v: true }), false);
    assert.equal(await valid({ properties: { v: { type: 'integer' } } }, { v: 3 }), true);
    assert.equal(await valid({ properties: { v: { type: 'integer' } } }, { v: 3.5 }), false);
    assert.equal(await valid({ properties: { v: { type: ['boolean', 'null'] } } }, { v: false }), true);
  });
});

describe('keywords', () => {
  test('a missing root bsonType means object; a non-object root is an error', () => {
    const problems: RuleProblem[] = [];
    assert.deepEqual(compileSchema({ properties: {} }, 's.json', problems).root.bsonTypes, ['object']);
    compileSchema({ bsonType: 'string' }, 's.json', problems);
    assert.equal(problems[0]?.field, '(root)');
  });

  test('required, additionalProperties, min/maxProperties, dependencies, patternProperties', async () => {
    const schema = { required: ['a'], properties: { a: { bsonType: 'int' } }, additionalProperties: false, patternProperties: { '^x_': { bsonType: 'string' } }, dependencies: { a: ['b'] } };
    assert.deepEqual((await failures(schema, {})).map((f) => [f.field, f.message]), [['(root)', 'a is required']]);
    assert.deepEqual((await failures(schema, { a: 1, b: 1, c: 1 })).map((f) => f.message), ['Additional property b is not allowed', 'Additional property c is not allowed']);
    assert.equal(await valid(schema, { a: 1, b: 2, x_name: 'ok' }), false, 'b is additional');
    assert.match((await failures({ properties: { a: {}, b: {} }, dependencies: { a: ['b'] } }, { a: 1 }))[0].message, /dependency on b/);
    assert.equal(await valid({ patternProperties: { '^x_': { bsonType: 'string' } } }, { x_a: 1 }), false);
    assert.equal(await valid({ minProperties: 2 }, { a: 1 }), false);
    assert.equal(await valid({ maxProperties: 1 }, { a: 1, b: 2 }), false);
    assert.equal(await valid({ additionalProperties: { bsonType: 'int' } }, { a: 1, b: 'x' }), false);
  });

  test('optional properties may be null; required ones are type-checked', async () => {
    const schema = { required: ['r'], properties: { r: { bsonType: 'string' }, o: { bsonType: 'string' } } };
    assert.equal(await valid(schema, { r: 'x', o: null }), true);
    assert.equal(await valid(schema, { r: null }), false);
  });

  test('strings, numbers (draft-4 exclusive bounds), enum', async () => {
    const s = { properties: { s: { bsonType: 'string', minLength: 2, maxLength: 3, pattern: '^[a-z]+$' } } };
    assert.equal(await valid(s, { s: 'ab' }), true);
    assert.equal(await valid(s, { s: 'a' }), false);
    assert.equal(await valid(s, { s: 'abcd' }), false);
    assert.equal(await valid(s, { s: 'AB' }), false);
    assert.equal(await valid({ properties: { s: { minLength: 2 } } }, { s: '😀😀' }), true, 'code points, not UTF-16 units');
    const n = { properties: { n: { bsonType: 'number', minimum: 0, exclusiveMinimum: true, maximum: 10, multipleOf: 0.5 } } };
    assert.equal(await valid(n, { n: 0 }), false);
    assert.equal(await valid(n, { n: 0.5 }), true);
    assert.equal(await valid(n, { n: 10.5 }), false);
    assert.equal(await valid(n, { n: 0.7 }), false);
    assert.equal(await valid(n, { n: Long.fromNumber(10) }), true);
    assert.equal(await valid({ properties: { e: { enum: ['a', 1, null] } } }, { e: 1 }), true);
    assert.equal(await valid({ properties: { e: { enum: ['a', 1] } } }, { e: 'b' }), false);
  });

  test('arrays: items (schema and tuple), additionalItems, min/maxItems, uniqueItems', async () => {
    const a = { properties: { a: { bsonType: 'array', items: { bsonType: 'int' }, minItems: 1, maxItems: 3, uniqueItems: true } } };
    assert.equal(await valid(a, { a: [1, 2] }), true);
    assert.equal(await valid(a, { a: [] }), false);
    assert.equal(await valid(a, { a: [1, 2, 3, 4] }), false);
    assert.equal(await valid(a, { a: [1, 1] }), false);
    assert.deepEqual((await failures(a, { a: [1, 'x'] })).map((f) => f.field), ['a.1']);
    const t = { properties: { t: { items: [{ bsonType: 'string' }, { bsonType: 'int' }], additionalItems: false } } };
    assert.equal(await valid(t, { t: ['a', 1] }), true);
    assert.equal(await valid(t, { t: ['a', 1, 2] }), false);
    assert.equal(await valid(t, { t: [1, 'a'] }), false);
  });

  test('nested objects report the full path', async () => {
    const schema = { properties: { a: { bsonType: 'object', properties: { b: { bsonType: 'array', items: { bsonType: 'object', required: ['c'] } } } } } };
    const f = await failures(schema, { a: { b: [{ c: 1 }, {}] } });
    assert.deepEqual(f.map((x) => [x.field, x.message, x.schemaPath]), [['a.b.1', 'c is required', 'properties.a.properties.b.items']]);
  });

  test('anyOf, oneOf, allOf, not', async () => {
    assert.equal(await valid({ properties: { v: { anyOf: [{ bsonType: 'string' }, { bsonType: 'int' }] } } }, { v: 1 }), true);
    assert.equal(await valid({ properties: { v: { anyOf: [{ bsonType: 'string' }, { bsonType: 'int' }] } } }, { v: true }), false);
    assert.equal(await valid({ properties: { v: { oneOf: [{ bsonType: 'number' }, { bsonType: 'int' }] } } }, { v: 1 }), false);
    assert.equal(await valid({ properties: { v: { allOf: [{ bsonType: 'int' }, { minimum: 2 }] } } }, { v: 1 }), false);
    assert.equal(await valid({ properties: { v: { not: { bsonType: 'string' } } } }, { v: 'x' }), false);
  });

  test('validate expressions see %%this, %%prev, %%root and %%prevRoot', async () => {
    const schema = {
      properties: {
        status: { bsonType: 'string', validate: { '%or': [{ '%%prev': { '%exists': false } }, { '%%prev': 'draft' }, { '%%this': '%%prev' }] } },
        owner: { validate: { '%%this': '%%user.id' } },
        total: { validate: { '%%root.items': { $exists: true } } },
        created: { validate: { '%or': [{ '%%prevRoot': { '%exists': false } }, { '%%this': '%%prevRoot.created' }] } },
      },
    };
    assert.equal(await valid(schema, { status: 'draft', owner: 'u1', created: 1 }), true);
    assert.equal(await valid(schema, { status: 'sent', owner: 'u1' }, { status: 'draft', owner: 'u1' }), true);
    const f = await failures(schema, { status: 'draft', owner: 'u1' }, { status: 'sent', owner: 'u1' });
    assert.deepEqual(f.map((x) => x.field), ['status']);
    assert.deepEqual((await failures(schema, { owner: 'u2' })).map((x) => x.field), ['owner']);
    assert.deepEqual((await failures(schema, { total: 3 })).map((x) => x.field), ['total']);
    assert.deepEqual((await failures(schema, { created: 2 }, { created: 1 })).map((x) => x.field), ['created']);
  });

  test('schema mistakes are reported with their path', () => {
    const problems: RuleProblem[] = [];
    compileSchema({ properties: { a: { bsonType: 'integer' }, b: { pattern: '(' }, c: { items: 3 }, d: { exclusiveMinimum: 'yes' }, e: { validate: 7 }, f: { frobnicate: 1 } } }, 'schema.json', problems);
    const fields = problems.map((p) => `${p.level} ${p.field}`);
    assert.deepEqual(fields, ['error properties.a.bsonType', 'error properties.b.pattern', 'error properties.c.items', 'error properties.d.exclusiveMinimum', 'error properties.e.validate', 'warning properties.f.frobnicate']);
  });
});
