// A rule expression analysed once at load time (issue 6 "Speed"): constants are folded, and an expression that
// does not look at the document (%%root, %%prevRoot, %%this, %%prev or a plain field name) is marked so it can be
// evaluated once per operation instead of once per document. Evaluation itself stays with the ONE evaluator in
// expression.ts.
import { ExpressionError, usesFunctions } from './expression';
import { readPath, valuesMatch } from './expression-values';

export interface CompiledExpr {
  /** The expression as written (what the evaluator runs). */
  readonly raw: unknown;
  /** true/false when the result never depends on anything (`true`, `false`, `{}`). */
  readonly constant: boolean | undefined;
  /** Whether the result can differ from one document to the next. */
  readonly perDocument: boolean;
  /** Whether it calls %function (needs asynchronous evaluation). */
  readonly async: boolean;
  /** Where it was written, for diagnostics: `rules.json roles[0] ("owner").apply_when`. */
  readonly where: string;
  /**
   * The same result as the evaluator, without it, for the most common shape: document fields compared with
   * literals or %%user.id / %%user.type / %%user.data.* / %%user.custom_data.* ({"owner_id": "%%user.id"}).
   */
  readonly fast?: (root: unknown, user: unknown) => boolean;
}

const DOCUMENT_EXPANSION = /^%%(root|prevRoot|this|prev)(\.|$)/;
const LOGICAL_KEYS = new Set(['%and', '%or', '%nor', '%not', '$and', '$or', '$nor', '$not']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Whether a value (right-hand side, operator operand) refers to the document. */
function valueUsesDocument(v: unknown, depth: number): boolean {
  if (depth > 64) return true;
  if (typeof v === 'string') return DOCUMENT_EXPANSION.test(v);
  if (Array.isArray(v)) return v.some((e) => valueUsesDocument(e, depth + 1));
  if (!isPlainObject(v)) return false;
  const keys = Object.keys(v);
  if (keys.length === 1 && keys[0] === '%function') {
    const call = v['%function'];
    return isPlainObject(call) ? valueUsesDocument(call.arguments, depth + 1) : false;
  }
  // An object with %% keys on the right-hand side is an embedded expression.
  if (Object.keys(v).some((k) => k.startsWith('%%'))) return expressionUsesDocument(v, depth + 1);
  // An object with plain field names is compared as a literal today; it is counted as document-dependent anyway
  // so that reading it as an embedded expression ({"%%true": {"owner": "%%user.id"}}) can never be cached wrongly.
  if (Object.keys(v).some((k) => !k.startsWith('$') && !k.startsWith('%'))) return true;
  return Object.entries(v).some(([k, e]) => LOGICAL_KEYS.has(k) ? logicalUsesDocument(e, depth + 1, false) : valueUsesDocument(e, depth + 1));
}

/** Operands of %and/%or/...: expressions at expression level, operator specs at value level. */
function logicalUsesDocument(v: unknown, depth: number, expressionLevel: boolean): boolean {
  const list = Array.isArray(v) ? v : [v];
  return list.some((e) => (expressionLevel ? expressionUsesDocument(e, depth + 1) : valueUsesDocument(e, depth + 1)));
}

/** Whether an expression (true/false/object of fields) refers to the document. Errs on the side of "yes". */
function expressionUsesDocument(expr: unknown, depth: number): boolean {
  if (depth > 64) return true;
  if (typeof expr === 'boolean') return false;
  if (typeof expr === 'string') return DOCUMENT_EXPANSION.test(expr);
  if (!isPlainObject(expr)) return false;
  for (const [key, value] of Object.entries(expr)) {
    if (LOGICAL_KEYS.has(key)) {
      if (logicalUsesDocument(value, depth, true)) return true;
    } else if (key.startsWith('%%')) {
      if (DOCUMENT_EXPANSION.test(key) || valueUsesDocument(value, depth + 1)) return true;
    } else if (key.startsWith('%') || key.startsWith('$')) {
      if (valueUsesDocument(value, depth + 1)) return true;
    } else {
      return true; // a plain field name means %%root.<name>
    }
  }
  return false;
}

function constantOf(raw: unknown): boolean | undefined {
  if (typeof raw === 'boolean') return raw;
  if (raw === '%%true') return true;
  if (raw === '%%false') return false;
  if (isPlainObject(raw) && Object.keys(raw).length === 0) return true;
  return undefined;
}

const FAST_USER_PATH = /^%%user\.(id|type|data\.[^.]+(\.[^.]+)*|custom_data\.[^.]+(\.[^.]+)*)$/;

/** A direct implementation of `{"<field>": <literal or %%user path>, ...}`, or undefined for any other shape. */
function fastPath(raw: unknown): ((root: unknown, user: unknown) => boolean) | undefined {
  if (!isPlainObject(raw)) return undefined;
  const checks: Array<(root: unknown, user: unknown) => boolean> = [];
  for (const [key, value] of Object.entries(raw)) {
    if (key.startsWith('%') || key.startsWith('$')) return undefined;
    const field = key.split('.');
    if (typeof value === 'string' && value.startsWith('%%')) {
      if (!FAST_USER_PATH.test(value)) return undefined;
      const userPath = value.slice('%%user.'.length).split('.');
      checks.push((root, user) => valuesMatch(readPath(root, field), readPath(user, userPath)));
    } else if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) {
      checks.push((root) => valuesMatch(readPath(root, field), value));
    } else return undefined;
  }
  if (checks.length === 0) return undefined;
  return checks.length === 1 ? checks[0] : (root, user) => checks.every((c) => c(root, user));
}

/**
 * Analyses an expression. Throws ExpressionError when it is not an expression at all (not a boolean or an
 * object); deeper mistakes (unknown operators) surface when it is evaluated, and in `atrium rules check`.
 */
export function compileExpression(raw: unknown, where: string): CompiledExpr {
  if (typeof raw !== 'boolean' && !isPlainObject(raw) && !(typeof raw === 'string' && raw.startsWith('%%'))) {
    throw new ExpressionError(`${where}: an expression must be true, false or an object`);
  }
  const constant = constantOf(raw);
  return {
    raw,
    constant,
    perDocument: constant === undefined && expressionUsesDocument(raw, 0),
    async: constant === undefined && usesFunctions(raw),
    where,
    fast: constant === undefined ? fastPath(raw) : undefined,
  };
}

export const ALWAYS: CompiledExpr = { raw: true, constant: true, perDocument: false, async: false, where: '(default true)' };
export const NEVER: CompiledExpr = { raw: false, constant: false, perDocument: false, async: false, where: '(default false)' };
