// Validates a document against a compiled App Services schema (spec §12.4). Structural keywords are checked
// synchronously; `validate` expressions are collected and evaluated afterwards (they may call %function).
// A property that is not `required` may be missing or null (App Services' "optional" fields); like every
// property keyword, a property's `validate` runs only when the property is present.
import { bsonEquals, isPlainObject } from '../values';
import { describeBsonType, hasBsonType, hasJsonType } from './bson-types';
import type { CompiledExpr } from './compiled-expression';
import type { MaybePromise, RuleContext } from './rule-context';
import type { SchemaFailure, SchemaNode, CompiledSchema } from './schema-types';

interface PendingCheck {
  expr: CompiledExpr;
  field: string;
  value: unknown;
  prev: unknown;
  schemaPath: string;
}

const MAX_FAILURES = 10;

function numberOf(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'object' && v !== null && hasBsonType(v, 'number')) {
    const tag = (v as { _bsontype?: string })._bsontype;
    if (tag === 'Long') return (v as { toNumber(): number }).toNumber();
    if (tag === 'Decimal128') return Number(String(v));
    return Number((v as { valueOf(): unknown }).valueOf());
  }
  return undefined;
}

function childPath(parent: string, key: string | number): string {
  return parent === '(root)' ? String(key) : `${parent}.${key}`;
}

function readPrev(prev: unknown, key: string | number): unknown {
  if (Array.isArray(prev) && typeof key === 'number') return prev[key];
  if (isPlainObject(prev)) return (prev as Record<string, unknown>)[String(key)];
  return undefined;
}

function stringLength(s: string): number {
  // JSON Schema counts code points, not UTF-16 units.
  let n = 0;
  for (const _ of s) n++;
  return n;
}

class Validator {
  readonly failures: SchemaFailure[] = [];
  readonly pending: PendingCheck[] = [];

  fail(field: string, node: SchemaNode, message: string): void {
    if (this.failures.length < MAX_FAILURES) this.failures.push({ field, message, schemaPath: node.where });
  }

  /** Whether `value` matches `node` without recording anything (for anyOf/oneOf/not). */
  private probe(node: SchemaNode, value: unknown, prev: unknown, field: string): boolean {
    const v = new Validator();
    v.check(node, value, prev, field);
    if (v.failures.length > 0) return false;
    this.pending.push(...v.pending);
    return true;
  }

  check(node: SchemaNode, value: unknown, prev: unknown, field: string): void {
    if (node.bsonTypes && !node.bsonTypes.some((t) => hasBsonType(value, t))) {
      this.fail(field, node, `Invalid type. Expected: bsonType: [${node.bsonTypes.join(' ')}], given: [${describeBsonType(value)}]`);
      return;
    }
    if (node.jsonTypes && !node.jsonTypes.some((t) => hasJsonType(value, t))) {
      this.fail(field, node, `Invalid type. Expected: type: [${node.jsonTypes.join(' ')}], given: [${describeBsonType(value)}]`);
      return;
    }
    if (node.enum && !node.enum.some((e) => bsonEquals(e, value))) {
      this.fail(field, node, `${field} must be one of the following: ${node.enum.map((e) => JSON.stringify(e)).join(', ')}`);
    }
    if (typeof value === 'string') this.checkString(node, value, field);
    const num = typeof value === 'string' || typeof value === 'boolean' ? undefined : numberOf(value);
    if (num !== undefined) this.checkNumber(node, num, field);
    if (Array.isArray(value)) this.checkArray(node, value, prev, field);
    else if (isPlainObject(value)) this.checkObject(node, value as Record<string, unknown>, prev, field);
    if (node.allOf) for (const s of node.allOf) this.check(s, value, prev, field);
    if (node.anyOf && !node.anyOf.some((s) => this.probe(s, value, prev, field))) this.fail(field, node, 'Must validate at least one schema (anyOf)');
    if (node.oneOf) {
      const n = node.oneOf.filter((s) => this.probe(s, value, prev, field)).length;
      if (n !== 1) this.fail(field, node, 'Must validate one and only one schema (oneOf)');
    }
    if (node.not && new Validator().validatesStructurally(node.not, value, prev, field)) this.fail(field, node, 'Must not validate the schema (not)');
    if (node.validate) this.pending.push({ expr: node.validate, field, value, prev, schemaPath: `${node.where}.validate` });
  }

  validatesStructurally(node: SchemaNode, value: unknown, prev: unknown, field: string): boolean {
    this.check(node, value, prev, field);
    return this.failures.length === 0;
  }

  private checkString(node: SchemaNode, s: string, field: string): void {
    if (node.minLength !== undefined && stringLength(s) < node.minLength) this.fail(field, node, `String length must be greater than or equal to ${node.minLength}`);
    if (node.maxLength !== undefined && stringLength(s) > node.maxLength) this.fail(field, node, `String length must be less than or equal to ${node.maxLength}`);
    if (node.pattern && !node.pattern.test(s)) this.fail(field, node, `Does not match pattern '${node.pattern.source}'`);
  }

  private checkNumber(node: SchemaNode, n: number, field: string): void {
    const exMin = node.exclusiveMinimum;
    const exMax = node.exclusiveMaximum;
    if (node.minimum !== undefined) {
      if (exMin === true ? n <= node.minimum : n < node.minimum) this.fail(field, node, `Must be greater than ${exMin === true ? '' : 'or equal to '}${node.minimum}`);
    }
    if (typeof exMin === 'number' && n <= exMin) this.fail(field, node, `Must be greater than ${exMin}`);
    if (node.maximum !== undefined) {
      if (exMax === true ? n >= node.maximum : n > node.maximum) this.fail(field, node, `Must be less than ${exMax === true ? '' : 'or equal to '}${node.maximum}`);
    }
    if (typeof exMax === 'number' && n >= exMax) this.fail(field, node, `Must be less than ${exMax}`);
    if (node.multipleOf !== undefined) {
      const q = n / node.multipleOf;
      if (Math.abs(q - Math.round(q)) > 1e-9) this.fail(field, node, `Must be a multiple of ${node.multipleOf}`);
    }
  }

  private checkArray(node: SchemaNode, arr: unknown[], prev: unknown, field: string): void {
    if (node.minItems !== undefined && arr.length < node.minItems) this.fail(field, node, `Array must have at least ${node.minItems} items`);
    if (node.maxItems !== undefined && arr.length > node.maxItems) this.fail(field, node, `Array must have at most ${node.maxItems} items`);
    if (node.uniqueItems) {
      for (let i = 0; i < arr.length; i++) {
        for (let j = i + 1; j < arr.length; j++) {
          if (bsonEquals(arr[i], arr[j])) {
            this.fail(field, node, `array items[${i},${j}] must be unique`);
            i = arr.length;
            break;
          }
        }
      }
    }
    if (node.items === undefined) return;
    if (Array.isArray(node.items)) {
      const tuple = node.items;
      arr.forEach((el, i) => {
        const at = childPath(field, i);
        if (i < tuple.length) this.check(tuple[i], el, readPrev(prev, i), at);
        else if (node.additionalItems === false) this.fail(at, node, `Additional items are not allowed (at most ${tuple.length})`);
        else if (typeof node.additionalItems === 'object') this.check(node.additionalItems, el, readPrev(prev, i), at);
      });
      return;
    }
    const items = node.items;
    arr.forEach((el, i) => this.check(items, el, readPrev(prev, i), childPath(field, i)));
  }

  private checkObject(node: SchemaNode, obj: Record<string, unknown>, prev: unknown, field: string): void {
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined);
    if (node.required) {
      for (const r of node.required) if (obj[r] === undefined) this.fail(field, node, `${r} is required`);
    }
    if (node.minProperties !== undefined && keys.length < node.minProperties) this.fail(field, node, `Must have at least ${node.minProperties} properties`);
    if (node.maxProperties !== undefined && keys.length > node.maxProperties) this.fail(field, node, `Must have at most ${node.maxProperties} properties`);
    const required = new Set(node.required ?? []);
    for (const key of keys) {
      const value = obj[key];
      const at = childPath(field, key);
      const before = readPrev(prev, key);
      let matched = false;
      const prop = node.properties?.get(key);
      if (prop) {
        matched = true;
        // Optional (not required) properties may hold null.
        if (!(value === null && !required.has(key))) this.check(prop, value, before, at);
      }
      if (node.patternProperties) {
        for (const pp of node.patternProperties) {
          if (pp.pattern.test(key)) {
            matched = true;
            this.check(pp.schema, value, before, at);
          }
        }
      }
      if (!matched) {
        if (node.additionalProperties === false) this.fail(field, node, `Additional property ${key} is not allowed`);
        else if (typeof node.additionalProperties === 'object') this.check(node.additionalProperties, value, before, at);
      }
    }
    if (node.dependencies) {
      for (const [key, dep] of node.dependencies) {
        if (obj[key] === undefined) continue;
        if (Array.isArray(dep)) {
          for (const d of dep) if (obj[d] === undefined) this.fail(field, node, `Has a dependency on ${d}`);
        } else this.check(dep, obj, prev, field);
      }
    }
  }
}

/**
 * Validates `doc` (the document as it will be stored) against `schema`. `prevDoc` is the stored document before
 * the write (undefined for inserts). Resolves with the failures (empty: valid).
 */
export function validateDocument(schema: CompiledSchema, doc: Record<string, unknown>, prevDoc: Record<string, unknown> | undefined, ctx: RuleContext): MaybePromise<SchemaFailure[]> {
  const v = new Validator();
  v.check(schema.root, doc, prevDoc, '(root)');
  if (v.failures.length > 0 || v.pending.length === 0) return v.failures;
  const results = v.pending.map((p) => ctx.eval(p.expr, { root: doc, prevRoot: prevDoc, this: p.value, prev: p.prev }));
  const collect = (ok: boolean[]): SchemaFailure[] =>
    v.pending.filter((_, i) => !ok[i]).slice(0, MAX_FAILURES).map((p) => ({ field: p.field, message: `${p.field === '(root)' ? 'document' : p.field} does not satisfy its validate expression`, schemaPath: p.schemaPath }));
  if (results.some((r) => typeof r !== 'boolean')) return Promise.all(results).then(collect);
  return collect(results as boolean[]);
}
