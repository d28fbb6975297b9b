// Reading the loosely-typed arguments user functions pass (App Services option names, driver habits tolerated).
import { badValue } from '../errors';
import type { Document, SourceSession } from '../types';
import { isNumeric, toDouble, toHostDocument, toHostDocumentArray } from '../values';

/** The user-visible session object -> the DataSource session it stands for. */
const sessions = new WeakMap<object, SourceSession>();

export function registerSession(facade: object, inner: SourceSession): void {
  sessions.set(facade, inner);
}

export function optionsObject(v: unknown, what: string): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw badValue(`${what} must be an object`);
  return v as Record<string, unknown>;
}

/** `{ session }` from an options object (a session from client.startSession()). */
export function sessionOf(options: Record<string, unknown>): SourceSession | undefined {
  const s = options.session;
  if (s === undefined || s === null) return undefined;
  const inner = typeof s === 'object' ? sessions.get(s) : undefined;
  if (!inner) throw badValue('options.session must be a session returned by client.startSession()');
  return inner;
}

export function optionalDocument(v: unknown, what: string): Document | undefined {
  if (v === undefined || v === null) return undefined;
  return toHostDocument(v, what);
}

export function nonNegativeInt(v: unknown, what: string): number {
  const n = isNumeric(v) ? toDouble(v) : NaN;
  if (!Number.isFinite(n) || !Number.isInteger(n)) throw badValue(`${what} must be an integer`);
  if (n < 0) throw badValue(`${what} must be a non-negative number`);
  return n;
}

/** A limit: negative values mean the same as their absolute value (the driver's single-batch form). */
export function limitValue(v: unknown): number {
  const n = isNumeric(v) ? toDouble(v) : NaN;
  if (!Number.isFinite(n) || !Number.isInteger(n)) throw badValue('limit must be an integer');
  return Math.abs(n);
}

/** An update: an operator/replacement document, or an aggregation pipeline. */
export function updateArgument(v: unknown, what: string): Document | Document[] {
  if (Array.isArray(v)) return toHostDocumentArray(v, what);
  if (v === undefined || v === null) throw badValue(`${what} is required`);
  return toHostDocument(v, what);
}

export function arrayFilters(options: Record<string, unknown>): Document[] | undefined {
  return options.arrayFilters === undefined || options.arrayFilters === null ? undefined : toHostDocumentArray(options.arrayFilters, 'arrayFilters');
}

export function checkName(name: unknown, what: 'database' | 'collection'): string {
  if (typeof name !== 'string' || name.length === 0) throw badValue(`${what} name must be a non-empty string`);
  if (name.includes('\u0000')) throw badValue(`${what} name cannot contain null characters`);
  if (what === 'database' && (/[/\\. "$]/.test(name) || name.length >= 64)) {
    throw badValue(`database name "${name}" is invalid: it cannot contain /\\. "$ and must be shorter than 64 characters`);
  }
  if (what === 'collection' && name.includes('$')) throw badValue(`collection name "${name}" is invalid: it cannot contain '$'`);
  return name;
}
