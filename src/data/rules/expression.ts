// The ONE rule-expression evaluator (§12.3), shared by can_evaluate, roles, filters and schema `validate`.
//
// An expression is `true`/`false` or an object whose fields must all hold (AND; `{}` is true). A field name is an
// expansion (`%%user.id`), a logical operator (`%or`, `%and`, `%nor`, `%not`) or a plain field name, which points at
// `%%root.<name>` (MongoDB rules) or `%%args.<name>` (functions and services). A field value is
//   - a literal or an expansion: the field holds when the two sides are equal (an array on the left holds when any
//     element is equal);
//   - an operator object (`{"$in": [...]}`, `{"%exists": true}`, `{"%and": [{"$gt": 0}, {"$lte": 42}]}`) applied to
//     the field's value;
//   - a value operator (`%stringToOid`, `%oidToString`, `%stringToUuid`, `%uuidToString`, `%function`) whose result
//     is compared for equality;
//   - an embedded expression (an object with `%%` keys): its boolean result is compared with the field's value, so
//     `{"%%false": {...}}` asserts that the embedded expression is false.
//
// `%function` runs an app function and is asynchronous; the core is a generator that yields function calls, driven
// either asynchronously (evaluateExpression) or synchronously (evaluateExpressionSync, which refuses `%function`).
// A function that throws makes its field false (App Services behaviour).
import { ObjectId, UUID } from 'bson';
import { compareValues, deepEqual, ejsonLiteral, isEjsonWrapper, readPath, valuesMatch } from './expression-values';

export { deepEqual, valuesMatch, compareValues } from './expression-values';

export interface ExpressionContext {
  /** %%user: the calling user (§9.4), or null/undefined when there is none. */
  user?: unknown;
  /** %%request: the §6.2 context.request object (remoteIPAddress, requestHeaders, httpMethod, ...). */
  request?: unknown;
  /** %%values: app values by name (secrets already resolved). */
  values?: Record<string, unknown>;
  /** %%environment: { tag, values }. */
  environment?: unknown;
  /** MongoDB document expansions. */
  root?: unknown;
  prevRoot?: unknown;
  this?: unknown;
  prev?: unknown;
  /** %%args: a service action's or function's arguments. */
  args?: unknown;
  partition?: unknown;
  /** What a plain field name refers to: the document (`root`, the default) or the arguments (`args`). */
  defaultTarget?: 'root' | 'args';
  /** Runs an app function for `%function` (as system). Required for asynchronous evaluation of `%function`. */
  callFunction?: (name: string, args: unknown[]) => Promise<unknown>;
}

/** A malformed expression (unknown operator or expansion, wrong operand type). */
export class ExpressionError extends Error {
  override name = 'ExpressionError';
}

interface FunctionCall {
  name: string;
  args: unknown[];
}

/** Thrown into the generator when a `%function` call failed. */
class FunctionCallFailed extends Error {}

type Eval<T> = Generator<FunctionCall, T, unknown>;

const LOGICAL = new Set(['and', 'or', 'nor', 'not']);
const COMPARISON = new Set(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'exists']);
const VALUE_OPERATORS = new Set(['%stringToOid', '%oidToString', '%stringToUuid', '%uuidToString', '%function']);
const EXPANSION_ROOTS = new Set(['user', 'request', 'values', 'environment', 'root', 'prevRoot', 'this', 'prev', 'args', 'partition']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** `$in` / `%in` -> `in`; undefined for anything that is not a single-`%` or `$` operator name. */
function operatorName(key: string): string | undefined {
  if (key.startsWith('%%')) return undefined;
  if (key.startsWith('%') || key.startsWith('$')) return key.slice(1);
  return undefined;
}

class Evaluator {
  private userView: unknown;
  private userViewBuilt = false;

  constructor(private readonly ctx: ExpressionContext) {}

  *expression(expr: unknown): Eval<boolean> {
    if (typeof expr === 'boolean') return expr;
    if (typeof expr === 'string' && expr.startsWith('%%')) {
      const v = this.expansion(expr);
      if (typeof v === 'boolean') return v;
      throw new ExpressionError(`expansion ${expr} used as an expression must be a boolean`);
    }
    if (!isPlainObject(expr)) throw new ExpressionError(`an expression must be true, false or an object, got ${describe(expr)}`);
    for (const [key, value] of Object.entries(expr)) {
      if (!(yield* this.field(key, value))) return false;
    }
    return true;
  }

  private *field(key: string, value: unknown): Eval<boolean> {
    const op = operatorName(key);
    if (op !== undefined) {
      if (!LOGICAL.has(op)) throw new ExpressionError(`operator ${key} cannot be used as an expression field`);
      return yield* this.logical(key, op, value, (e) => this.expression(e));
    }
    const left = key.startsWith('%%') ? this.expansion(key) : this.defaultField(key);
    return yield* this.matches(left, value);
  }

  /** %and / %or / %nor over a list, %not over one operand; `each` evaluates one operand. */
  private *logical(key: string, op: string, operand: unknown, each: (e: unknown) => Eval<boolean>): Eval<boolean> {
    if (op === 'not') return !(yield* each(operand));
    if (!Array.isArray(operand)) throw new ExpressionError(`${key} expects an array`);
    for (const e of operand) {
      const r = yield* each(e);
      if (op === 'and' && !r) return false;
      if (op === 'or' && r) return true;
      if (op === 'nor' && r) return false;
    }
    return op !== 'or';
  }

  /** Whether `left` (a field's value) satisfies the field's right-hand side. */
  private *matches(left: unknown, spec: unknown): Eval<boolean> {
    if (isPlainObject(spec)) {
      const keys = Object.keys(spec);
      if (keys.length === 1 && VALUE_OPERATORS.has(keys[0])) {
        try {
          return valuesMatch(left, yield* this.value(spec));
        } catch (err) {
          if (err instanceof FunctionCallFailed) return false;
          throw err;
        }
      }
      if (keys.some((k) => k.startsWith('%%'))) {
        // An embedded expression: the field holds when its boolean result equals the field's value.
        let result: boolean;
        try {
          result = yield* this.expression(spec);
        } catch (err) {
          if (err instanceof FunctionCallFailed) return false;
          throw err;
        }
        return valuesMatch(left, result);
      }
      const ops = keys.filter((k) => operatorName(k) !== undefined);
      if (ops.length > 0 && !isEjsonWrapper(spec)) {
        if (ops.length !== keys.length) throw new ExpressionError(`cannot mix operators and field names in ${JSON.stringify(keys)}`);
        for (const k of keys) {
          try {
            if (!(yield* this.operator(left, k, spec[k]))) return false;
          } catch (err) {
            if (err instanceof FunctionCallFailed) return false;
            throw err;
          }
        }
        return true;
      }
    }
    try {
      return valuesMatch(left, yield* this.value(spec));
    } catch (err) {
      if (err instanceof FunctionCallFailed) return false;
      throw err;
    }
  }

  private *operator(left: unknown, key: string, operand: unknown): Eval<boolean> {
    const op = operatorName(key) ?? '';
    if (LOGICAL.has(op)) return yield* this.logical(key, op, operand, (e) => this.matches(left, e));
    if (!COMPARISON.has(op)) throw new ExpressionError(`unknown operator ${key}`);
    const right = yield* this.value(operand);
    switch (op) {
      case 'eq':
        return valuesMatch(left, right);
      case 'ne':
        return !valuesMatch(left, right);
      case 'exists':
        return (left !== undefined) === truthy(right);
      case 'in':
      case 'nin': {
        const list = Array.isArray(right) ? right : right === undefined ? [] : [right];
        const found = Array.isArray(left) ? left.some((l) => list.some((r) => deepEqual(l, r))) : list.some((r) => valuesMatch(left, r));
        return op === 'in' ? found : !found;
      }
      default: {
        const holds = (l: unknown): boolean => {
          const c = compareValues(l, right);
          if (c === undefined) return false;
          return op === 'gt' ? c > 0 : op === 'gte' ? c >= 0 : op === 'lt' ? c < 0 : c <= 0;
        };
        return Array.isArray(left) ? left.some(holds) : holds(left);
      }
    }
  }

  /** The value a right-hand side stands for: expansions resolved, value operators applied, literals as they are. */
  *value(v: unknown): Eval<unknown> {
    if (typeof v === 'string') return v.startsWith('%%') ? this.expansion(v) : v;
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      for (const el of v) out.push(yield* this.value(el));
      return out;
    }
    if (!isPlainObject(v)) return v;
    const keys = Object.keys(v);
    if (keys.length === 1 && VALUE_OPERATORS.has(keys[0])) return yield* this.valueOperator(keys[0], v[keys[0]]);
    if (isEjsonWrapper(v)) {
      try {
        return ejsonLiteral(v);
      } catch (err) {
        throw new ExpressionError(`invalid Extended JSON value ${JSON.stringify(v)}: ${(err as Error).message}`);
      }
    }
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = yield* this.value(v[k]);
    return out;
  }

  private *valueOperator(op: string, operand: unknown): Eval<unknown> {
    if (op === '%function') {
      if (!isPlainObject(operand) || typeof operand.name !== 'string') {
        throw new ExpressionError('%function expects {"name": "<function>", "arguments": [...]}');
      }
      const rawArgs = operand.arguments ?? [];
      if (!Array.isArray(rawArgs)) throw new ExpressionError('%function "arguments" must be an array');
      const args: unknown[] = [];
      for (const a of rawArgs) args.push(yield* this.value(a));
      return yield { name: operand.name, args };
    }
    // The conversion operators take a literal or an expansion, never another operator.
    const input = typeof operand === 'string' && operand.startsWith('%%') ? this.expansion(operand) : isPlainObject(operand) && isEjsonWrapper(operand) ? ejsonLiteral(operand) : operand;
    switch (op) {
      case '%stringToOid':
        if (input instanceof ObjectId) return input;
        if (typeof input === 'string' && ObjectId.isValid(input) && (input.length === 24 || input.length === 12)) return new ObjectId(input);
        return undefined;
      case '%oidToString':
        if (input instanceof ObjectId) return input.toHexString();
        return typeof input === 'string' ? input : undefined;
      case '%stringToUuid':
        if (input instanceof UUID) return input;
        if (typeof input === 'string' && UUID.isValid(input)) return new UUID(input);
        return undefined;
      case '%uuidToString':
        if (input instanceof UUID) return input.toHexString(true);
        return typeof input === 'string' ? input : undefined;
      default:
        throw new ExpressionError(`unknown operator ${op}`);
    }
  }

  private defaultField(name: string): unknown {
    const target = this.ctx.defaultTarget === 'args' ? this.ctx.args : this.ctx.root;
    return readPath(target, name.split('.'));
  }

  expansion(text: string): unknown {
    const path = text.slice(2).split('.');
    const head = path[0];
    if (head === 'true' && path.length === 1) return true;
    if (head === 'false' && path.length === 1) return false;
    if (!EXPANSION_ROOTS.has(head)) throw new ExpressionError(`unknown expansion ${text}`);
    const base = head === 'user' ? this.user() : (this.ctx as Record<string, unknown>)[head];
    if (head === 'request') {
      const headers = (base as { requestHeaders?: unknown } | undefined)?.requestHeaders;
      return readPath(base, path.slice(1), (obj) => obj === headers);
    }
    return readPath(base, path.slice(1));
  }

  /** %%user with `providerType` beside `provider_type` in identities (the docs spell it both ways). */
  private user(): unknown {
    if (this.userViewBuilt) return this.userView;
    this.userViewBuilt = true;
    const u = this.ctx.user;
    if (!isPlainObject(u) || !Array.isArray(u.identities)) return (this.userView = u ?? undefined);
    // Rules evaluate many expressions for one user object: its view is built once (users are not mutated).
    const known = userViews.get(u);
    if (known) return (this.userView = known);
    const identities = u.identities.map((i: unknown) =>
      isPlainObject(i) ? { ...i, providerType: i.providerType ?? i.provider_type, provider_type: i.provider_type ?? i.providerType } : i,
    );
    const view = { ...u, identities };
    userViews.set(u, view);
    return (this.userView = view);
  }
}

/** %%user views by user object (see Evaluator.user). */
const userViews = new WeakMap<object, Record<string, unknown>>();

function truthy(v: unknown): boolean {
  return !(v === false || v === 0 || v === null || v === undefined || v === '');
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}

function driveSync<T>(gen: Eval<T>): T {
  const step = gen.next();
  if (!step.done) throw new ExpressionError(`%function ("${step.value.name}") needs asynchronous evaluation`);
  return step.value;
}

async function driveAsync<T>(gen: Eval<T>, ctx: ExpressionContext): Promise<T> {
  let step = gen.next();
  while (!step.done) {
    const call = step.value;
    let result: unknown;
    let failed: unknown = null;
    try {
      if (!ctx.callFunction) throw new ExpressionError(`%function ("${call.name}") is not available here`);
      result = await ctx.callFunction(call.name, call.args);
    } catch (err) {
      if (err instanceof ExpressionError) throw err;
      failed = err;
    }
    step = failed !== null ? gen.throw(new FunctionCallFailed(String(failed))) : gen.next(result);
  }
  return step.value;
}

/** Evaluates an expression; `%function` calls go through ctx.callFunction. Throws ExpressionError when malformed. */
export function evaluateExpression(expr: unknown, ctx: ExpressionContext): Promise<boolean> {
  try {
    return driveAsync(new Evaluator(ctx).expression(expr), ctx);
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Evaluates an expression without `%function` (which throws ExpressionError here). For per-document rules. */
export function evaluateExpressionSync(expr: unknown, ctx: ExpressionContext): boolean {
  return driveSync(new Evaluator(ctx).expression(expr));
}

/** Replaces expansions and value operators inside a value (e.g. a filter's `query`), without `%function`. */
export function expandValueSync(value: unknown, ctx: ExpressionContext): unknown {
  return driveSync(new Evaluator(ctx).value(value));
}

/** Same as expandValueSync, with `%function` allowed. */
export function expandValue(value: unknown, ctx: ExpressionContext): Promise<unknown> {
  try {
    return driveAsync(new Evaluator(ctx).value(value), ctx);
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Whether an expression calls `%function` anywhere (so a caller can choose the synchronous path). */
export function usesFunctions(expr: unknown): boolean {
  if (Array.isArray(expr)) return expr.some(usesFunctions);
  if (!isPlainObject(expr)) return false;
  return Object.entries(expr).some(([k, v]) => k === '%function' || usesFunctions(v));
}
