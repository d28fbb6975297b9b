// Parses JSON text into a value, or into a message that says where and why it is invalid
// (never quoting the text: it may hold secrets).
import { findJsonSyntaxError } from './json-syntax';

export type JsonParseResult = { ok: true; value: unknown } | { ok: false; message: string };

export function parseJsonText(text: string): JsonParseResult {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // editors on Windows add a BOM
  if (body.trim() === '') return { ok: false, message: 'file is empty (expected JSON)' };
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch {
    const found = findJsonSyntaxError(body);
    if (!found) return { ok: false, message: 'invalid JSON' };
    return { ok: false, message: `invalid JSON at line ${found.line}, column ${found.column} (position ${found.offset}): ${found.reason}` };
  }
}
