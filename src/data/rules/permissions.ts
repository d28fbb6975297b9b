// Per-document role evaluation (spec §12.2): which role applies, what of the document the caller may read, and
// whether a write (given the document before and after it) is allowed. Written as Steps (see steps.ts): they
// run synchronously unless an expression calls %function.
import { bsonEquals, isPlainObject } from '../values';
import type { Document } from '../types';
import type { CompiledExpr } from './compiled-expression';
import type { DocumentScope, RuleContext } from './rule-context';
import type { CompiledFieldRule, CompiledRole } from './rule-types';
import type { Steps } from './steps';

function* holds(ctx: RuleContext, expr: CompiledExpr | undefined, scope: DocumentScope, fallback: boolean): Steps<boolean> {
  if (expr === undefined) return fallback;
  const r = ctx.eval(expr, scope);
  return typeof r === 'boolean' ? r : yield r;
}

/** The first role (in role order) whose apply_when holds for `doc`, or null: no access. */
export function* chooseRole(roles: readonly CompiledRole[], ctx: RuleContext, doc: Document | undefined): Steps<CompiledRole | null> {
  const scope: DocumentScope = { root: doc };
  for (const role of roles) {
    if (yield* holds(ctx, role.applyWhen, scope, true)) return role;
  }
  return null;
}

export interface Gates {
  /** document_filters let the role's read permissions be evaluated. */
  read: boolean;
  /** document_filters let the role's write permissions be evaluated. */
  write: boolean;
}

/** document_filters for `doc` (undefined filters let everything through; a writable document is readable). */
export function* documentGates(role: CompiledRole, ctx: RuleContext, doc: Document): Steps<Gates> {
  const scope: DocumentScope = { root: doc };
  const write = yield* holds(ctx, role.documentFilters.write, scope, true);
  let read = yield* holds(ctx, role.documentFilters.read, scope, true);
  if (!read && role.documentFilters.write !== undefined) read = write;
  return { read, write };
}

function* redactObject(
  obj: Record<string, unknown>,
  fields: Map<string, CompiledFieldRule>,
  additional: { read?: CompiledExpr; write?: CompiledExpr },
  ctx: RuleContext,
  root: Document,
  writeGate: boolean,
): Steps<Record<string, unknown> | null> {
  const out: Record<string, unknown> = {};
  let any = false;
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    const scope: DocumentScope = { root, prevRoot: root, this: value, prev: value };
    const rule = fields.get(key);
    if (rule) {
      // A field-level rule on a parent decides for all its embedded fields.
      if ((yield* holds(ctx, rule.read, scope, false)) || (writeGate && (yield* holds(ctx, rule.write, scope, false)))) {
        out[key] = value;
        any = true;
        continue;
      }
      if (rule.fields.size === 0) continue;
      const sub = yield* redactEmbedded(value, rule.fields, ctx, root, writeGate);
      if (sub !== undefined) {
        out[key] = sub;
        any = true;
      }
      continue;
    }
    if ((yield* holds(ctx, additional.read, scope, false)) || (writeGate && (yield* holds(ctx, additional.write, scope, false)))) {
      out[key] = value;
      any = true;
    }
  }
  return any ? out : null;
}

/** Nested `fields` of an embedded document (or of each embedded document in an array). */
function* redactEmbedded(value: unknown, fields: Map<string, CompiledFieldRule>, ctx: RuleContext, root: Document, writeGate: boolean): Steps<unknown> {
  if (isPlainObject(value)) return (yield* redactObject(value as Record<string, unknown>, fields, {}, ctx, root, writeGate)) ?? undefined;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const el of value) {
      if (!isPlainObject(el)) continue;
      const sub = yield* redactObject(el as Record<string, unknown>, fields, {}, ctx, root, writeGate);
      if (sub) out.push(sub);
    }
    return out.length > 0 ? out : undefined;
  }
  return undefined;
}

/**
 * What `role` lets the caller read of `doc`: the document itself, a copy without the unreadable fields, or
 * null when nothing is readable (the document is withheld).
 */
export function* readView(role: CompiledRole, ctx: RuleContext, doc: Document, gates?: Gates): Steps<Document | null> {
  const g = gates ?? (yield* documentGates(role, ctx, doc));
  if (!g.read) return null;
  const scope: DocumentScope = { root: doc, prevRoot: doc };
  if ((yield* holds(ctx, role.read, scope, false)) || (g.write && (yield* holds(ctx, role.write, scope, false)))) return doc;
  if (role.fields.size === 0 && role.additionalFields.read === undefined && role.additionalFields.write === undefined) return null;
  return yield* redactObject(doc, role.fields, role.additionalFields, ctx, doc, g.write);
}

function keysOf(v: unknown): string[] {
  return isPlainObject(v) ? Object.keys(v as Record<string, unknown>).filter((k) => (v as Record<string, unknown>)[k] !== undefined) : [];
}

/** Top-level keys whose value differs between `before` and `after` (added, removed or changed). */
function changedKeys(before: unknown, after: unknown): string[] {
  const a = isPlainObject(before) ? (before as Record<string, unknown>) : {};
  const b = isPlainObject(after) ? (after as Record<string, unknown>) : {};
  const keys = new Set([...keysOf(a), ...keysOf(b)]);
  return [...keys].filter((k) => a[k] === undefined || b[k] === undefined || !bsonEquals(a[k], b[k]));
}

/** The first field the caller may not change, or null when every change is allowed. */
function* deniedField(
  before: unknown,
  after: unknown,
  fields: Map<string, CompiledFieldRule>,
  additional: { write?: CompiledExpr },
  ctx: RuleContext,
  docs: { root: Document | undefined; prevRoot: Document | undefined },
  prefix: string,
): Steps<string | null> {
  for (const key of changedKeys(before, after)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const now = isPlainObject(after) ? (after as Record<string, unknown>)[key] : undefined;
    const was = isPlainObject(before) ? (before as Record<string, unknown>)[key] : undefined;
    const scope: DocumentScope = { root: docs.root, prevRoot: docs.prevRoot, this: now, prev: was };
    const rule = fields.get(key);
    if (!rule) {
      if (!(yield* holds(ctx, additional.write, scope, false))) return path;
      continue;
    }
    if (yield* holds(ctx, rule.write, scope, false)) continue;
    // No write on the field itself: only its embedded fields' rules can allow the change.
    if (rule.fields.size > 0 && (isPlainObject(now) || now === undefined) && (isPlainObject(was) || was === undefined) && !(now === undefined && was === undefined)) {
      const inner = yield* deniedField(was ?? {}, now ?? {}, rule.fields, {}, ctx, docs, path);
      if (inner === null) continue;
      return inner;
    }
    return path;
  }
  return null;
}

export type WriteDecision = { allowed: true } | { allowed: false; reason: string };

/**
 * Whether `role` lets the caller turn `before` into `after` (insert: no before; delete: no after). `%%root` is the
 * document after the write (for a delete: the document deleted), `%%prevRoot` the one before.
 */
export function* checkWrite(role: CompiledRole, ctx: RuleContext, kind: 'insert' | 'update' | 'delete', before: Document | undefined, after: Document | undefined): Steps<WriteDecision> {
  const root = after ?? before;
  const scope: DocumentScope = { root, prevRoot: before };
  // document_filters.write must hold for the document written (and for an update, for what it becomes).
  if (before && !(yield* holds(ctx, role.documentFilters.write, { root: before }, true))) return { allowed: false, reason: `document_filters.write of ${role.where} is false for the stored document` };
  if (after && !(yield* holds(ctx, role.documentFilters.write, { root: after, prevRoot: before }, true))) return { allowed: false, reason: `document_filters.write of ${role.where} is false for the document as written` };
  if (!(yield* holds(ctx, role.write, scope, false))) {
    const field = yield* deniedField(before ?? {}, after ?? {}, role.fields, role.additionalFields, ctx, { root, prevRoot: before }, '');
    if (field !== null) return { allowed: false, reason: `${role.where} gives no write permission on field "${field}"` };
  }
  if (kind === 'insert' && !(yield* holds(ctx, role.insert, { root: after }, true))) return { allowed: false, reason: `insert of ${role.where} is false` };
  if (kind === 'delete' && !(yield* holds(ctx, role.delete, { root: before, prevRoot: before }, true))) return { allowed: false, reason: `delete of ${role.where} is false` };
  return { allowed: true };
}
