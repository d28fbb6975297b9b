// Reads documents for `atrium data import` from a stream, like mongoimport: a JSON array of documents, or one
// (Extended) JSON document per line. The array form is split incrementally, so a large file never has to fit
// in memory as one string. Values are parsed as canonical EJSON ({"$oid"}, {"$date"}, {"$numberLong"}...),
// keeping int32/int64/double/decimal types exactly.
import type { Readable } from 'node:stream';
import { EJSON } from 'bson';
import type { Document } from '../types';

export interface ParsedDocument {
  doc: Document;
  /** 1-based line where the document starts. */
  line: number;
  /** 0-based position in the input. */
  index: number;
}

export class InputError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
  }
}

const NUMBER_INT = /^-?\d+$/;
const NUMBER_DOUBLE = /^(-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|-?Infinity|NaN)$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Refuses EJSON wrappers that bson's EJSON.parse would turn into a wrong value instead of an error
 * ({"$date": "nope"} -> Invalid Date, {"$numberInt": "1.5"} -> 1, bad base64 -> empty Binary).
 */
function checkWrappers(v: unknown, depth = 0): void {
  if (depth > 200 || typeof v !== 'object' || v === null) return;
  if (Array.isArray(v)) {
    for (const e of v) checkWrappers(e, depth + 1);
    return;
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1) {
    const [k] = keys;
    const x = o[k];
    if (k === '$numberInt' && (typeof x !== 'string' || !NUMBER_INT.test(x) || Math.abs(Number(x)) > 2147483648 || Number(x) > 2147483647)) throw new Error(`$numberInt ${JSON.stringify(x)} is not a 32-bit integer`);
    if (k === '$numberDouble' && (typeof x !== 'string' || !NUMBER_DOUBLE.test(x))) throw new Error(`$numberDouble ${JSON.stringify(x)} is not a number`);
    if (k === '$date' && typeof x === 'string' && Number.isNaN(Date.parse(x))) throw new Error(`$date ${JSON.stringify(x)} is not a date`);
  }
  if (keys.length === 1 && keys[0] === '$binary') {
    const b = o.$binary as { base64?: unknown } | string;
    const text = typeof b === 'string' ? b : b && typeof b === 'object' ? b.base64 : undefined;
    if (typeof text !== 'string' || !BASE64.test(text)) throw new Error(`$binary ${JSON.stringify(text)} is not valid base64`);
  }
  for (const k of keys) checkWrappers(o[k], depth + 1);
}

function parseDocument(text: string, line: number, index: number): ParsedDocument {
  let value: unknown;
  try {
    checkWrappers(JSON.parse(text));
    value = EJSON.parse(text, { relaxed: false });
  } catch (err) {
    throw new InputError(`document ${index + 1} is not valid (Extended) JSON: ${err instanceof Error ? err.message : String(err)}`, line);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError(`document ${index + 1} is not a JSON object`, line);
  return { doc: value as Document, line, index };
}

/** Yields documents in input order; throws InputError (with the line) at the first malformed one. */
export async function* readDocuments(input: Readable, onBytes?: (n: number) => void): AsyncGenerator<ParsedDocument> {
  input.setEncoding('utf8');
  let mode: 'unknown' | 'array' | 'lines' = 'unknown';
  let line = 1;
  let index = 0;
  // Array mode state.
  let depth = 0;
  let inString = false;
  let escaped = false;
  let element = '';
  let elementLine = 1;
  let ended = false;
  // Lines mode state.
  let pending = '';

  for await (const chunk of input as AsyncIterable<string>) {
    onBytes?.(Buffer.byteLength(chunk));
    let i = 0;
    if (mode === 'unknown') {
      const m = /\S/.exec(chunk);
      if (!m) {
        line += (chunk.match(/\n/g) ?? []).length;
        continue;
      }
      mode = m[0] === '[' ? 'array' : 'lines';
    }
    if (mode === 'lines') {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) !== -1) {
        const text = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (text) yield parseDocument(text, line, index++);
        line++;
      }
      continue;
    }
    // Array mode: track nesting outside strings; a document is the text between depth 1 -> 2 -> 1.
    let start = depth >= 2 ? 0 : -1;
    for (; i < chunk.length; i++) {
      const ch = chunk[i];
      if (ch === '\n') line++;
      if (inString) {
        if (escaped) escaped = false;
        else if (ch === '\\') escaped = true;
        else if (ch === '"') inString = false;
        continue;
      }
      if (ended) {
        if (!/\s/.test(ch)) throw new InputError('unexpected text after the closing ] of the array', line);
        continue;
      }
      switch (ch) {
        case '"':
          if (depth < 2) throw new InputError(`element ${index + 1} of the array is not a document`, line);
          inString = true;
          break;
        case '{':
        case '[':
          if (depth === 1 && ch === '[') throw new InputError(`element ${index + 1} of the array is not a document`, line);
          depth++;
          if (depth === 2) {
            start = i;
            element = '';
            elementLine = line;
          }
          break;
        case '}':
        case ']':
          depth--;
          if (depth === 1) {
            element += chunk.slice(start, i + 1);
            start = -1;
            yield parseDocument(element, elementLine, index++);
            element = '';
          } else if (depth === 0) {
            if (ch !== ']') throw new InputError('unbalanced brackets', line);
            ended = true;
          } else if (depth < 0) {
            throw new InputError('unbalanced brackets', line);
          }
          break;
        default:
          if (depth === 1 && !/[\s,]/.test(ch)) throw new InputError(`element ${index + 1} of the array is not a document`, line);
      }
    }
    if (start !== -1 && depth >= 2) element += chunk.slice(start);
  }
  if (mode === 'lines') {
    const text = pending.trim();
    if (text) yield parseDocument(text, line, index++);
  } else if (mode === 'array' && !ended) {
    throw new InputError('the JSON array is not closed (missing ])', line);
  }
}
