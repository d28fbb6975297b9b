// The import reader: JSON arrays split incrementally (any chunk boundary), EJSON lines, clear errors with lines.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { EJSON, ObjectId } from 'bson';
import { InputError, readDocuments } from '../../src/data';

async function readAll(text: string, chunk: number): Promise<Array<{ doc: Record<string, unknown>; line: number }>> {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += chunk) parts.push(text.slice(i, i + chunk));
  const out = [];
  for await (const d of readDocuments(Readable.from(parts))) out.push({ doc: d.doc, line: d.line });
  return out;
}

const ARRAY = `[
  {"_id": {"$oid": "64b7f0c2a1b2c3d4e5f60718"}, "s": "a \\" ] } [ { \\\\", "nested": {"a": [1, {"b": 2}]}},
  {"n": {"$numberLong": "7"}}
]`;

describe('readDocuments', () => {
  it('splits a JSON array the same way whatever the chunk size', async () => {
    for (const size of [1, 2, 3, 7, 64, 100000]) {
      const docs = await readAll(ARRAY, size);
      assert.equal(docs.length, 2, `chunk ${size}`);
      assert.ok(docs[0].doc._id instanceof ObjectId);
      assert.equal(docs[0].doc.s, 'a " ] } [ { \\');
      assert.equal(EJSON.stringify(docs[0].doc.nested), '{"a":[1,{"b":2}]}');
      assert.equal(EJSON.stringify(docs[1].doc, { relaxed: false }), '{"n":{"$numberLong":"7"}}');
      assert.deepEqual(
        docs.map((d) => d.line),
        [2, 3],
      );
    }
  });

  it('reads one document per line, skipping blank lines', async () => {
    const docs = await readAll('{"a": 1}\n\n  {"a": 2}  \n{"a": 3}', 5);
    assert.deepEqual(
      docs.map((d) => [Number(d.doc.a), d.line]),
      [
        [1, 1],
        [2, 3],
        [3, 4],
      ],
    );
    assert.deepEqual(await readAll('', 4), []);
    assert.deepEqual(await readAll('[]', 4), []);
  });

  it('reports malformed input with its line', async () => {
    const bad: Array<[string, RegExp]> = [
      ['[{"a": 1}, 5]', /line 1: element 2 of the array is not a document/],
      ['[{"a": 1},\n {"a": ]', /line 2: document 2 is not valid/],
      ['[{"a": 1}', /not closed/],
      ['[{"a": 1}] x', /after the closing \]/],
      ['{"a": 1}\n[1, 2]\n', /line 2: document 2 is not a JSON object/],
      ['{"d": {"$date": "nope"}}', /line 1: document 1 is not valid.*not a date/],
      ['{"n": {"$numberInt": "1.5"}}', /not a 32-bit integer/],
      ['{"n": {"$numberDouble": "x"}}', /is not a number/],
      ['{"b": {"$binary": {"base64": "!!", "subType": "00"}}}', /not valid base64/],
      ['{"o": {"$oid": "zz"}}', /line 1: document 1 is not valid/],
    ];
    for (const [text, re] of bad) await assert.rejects(readAll(text, 3), (e: unknown) => e instanceof InputError && re.test(e.message), text);
  });
});
