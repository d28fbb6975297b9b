// The JSON syntax scanner must agree with JSON.parse on what is valid, and point at the right place.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findJsonSyntaxError } from '../../src/app/json-syntax';
import { parseJsonText } from '../../src/app/json-text';

test('positions, lines and columns of typical mistakes', () => {
  assert.deepEqual(findJsonSyntaxError('{\n  "a": 1,\n}'), { offset: 12, line: 3, column: 1, reason: 'expected a double-quoted property name, found character "}"' });
  assert.equal(findJsonSyntaxError('[1 2]')?.offset, 3);
  assert.equal(findJsonSyntaxError('{"a": x}')?.offset, 6);
  assert.equal(findJsonSyntaxError('{"a": "unterminated')?.reason, 'unterminated string');
  assert.equal(findJsonSyntaxError('{"a": 1} trailing')?.reason, 'unexpected content after the JSON value');
  assert.equal(findJsonSyntaxError('{"a": 01}')?.offset, 7);
  assert.equal(findJsonSyntaxError('{"a": [1, 2, 3], "b": {"c": null}}'), null);
});

test('parseJsonText: BOM tolerated, empty file named, messages never quote the text', () => {
  assert.deepEqual(parseJsonText('\ufeff{"a":1}'), { ok: true, value: { a: 1 } });
  assert.deepEqual(parseJsonText('  \n'), { ok: false, message: 'file is empty (expected JSON)' });
  const bad = parseJsonText('{"password": hunter2}');
  assert.equal(bad.ok, false);
  assert.ok(!bad.ok && !bad.message.includes('hunter2'));
});

test('agrees with JSON.parse on thousands of mutated documents', () => {
  // Deterministic pseudo-random mutations of a valid document: drop, duplicate or replace one character.
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const base = JSON.stringify({ name: 'x', list: [1, -2.5e3, true, false, null, 'a\\"b\u00e9'], nested: { deep: [{}, []], s: '\\u0041' } }, null, 2);
  const alphabet = '{}[]",:0123456789-+.eE tfnul\\\n';
  for (let i = 0; i < 5000; i++) {
    const pos = rand(base.length);
    const op = rand(3);
    const ch = alphabet[rand(alphabet.length)] as string;
    const text = op === 0 ? base.slice(0, pos) + base.slice(pos + 1) : op === 1 ? base.slice(0, pos) + ch + base.slice(pos) : base.slice(0, pos) + ch + base.slice(pos + 1);
    let valid = true;
    try {
      JSON.parse(text);
    } catch {
      valid = false;
    }
    const found = findJsonSyntaxError(text);
    assert.equal(found === null, valid, `disagreement on: ${JSON.stringify(text)}`);
    if (found) assert.ok(found.offset >= 0 && found.offset <= text.length);
  }
});
