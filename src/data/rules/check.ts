// `atrium rules check`: everything wrong with an app's rules and schemas, with file and field, without serving.
// Compiling finds structural mistakes; the lint below walks every expression for unknown operators and
// expansions (which the evaluator would only meet on the branch it happens to take).
import type { AppDefinition } from '../../app/types';
import { compileAppRules } from './compiled-app';
import type { CompiledExpr } from './compiled-expression';
import { roleExpressions } from './compile-rules';
import type { RuleProblem } from './rule-types';
import type { SchemaNode } from './schema-types';

const LOGICAL = new Set(['and', 'or', 'nor', 'not']);
const COMPARISON = new Set(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'exists']);
const VALUE_OPERATORS = new Set(['%stringToOid', '%oidToString', '%stringToUuid', '%uuidToString', '%function']);
const EXPANSIONS = new Set(['true', 'false', 'user', 'request', 'values', 'environment', 'root', 'prevRoot', 'this', 'prev', 'args', 'partition']);
const EJSON_KEYS = new Set(['$oid', '$date', '$numberLong', '$numberInt', '$numberDouble', '$numberDecimal', '$binary', '$uuid', '$regularExpression', '$timestamp', '$minKey', '$maxKey', '$symbol', '$code']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function operatorName(key: string): string | undefined {
  if (key.startsWith('%%')) return undefined;
  return key.startsWith('%') || key.startsWith('$') ? key.slice(1) : undefined;
}

interface Lint {
  /** Path inside the expression ('' for the expression itself). */
  at: string;
  message: string;
}

/** Problems inside one expression. */
function lintExpression(raw: unknown): Lint[] {
  const out: Lint[] = [];
  const report = (at: string, message: string): void => {
    out.push({ at, message });
  };
  const expansion = (text: string, at: string): void => {
    const head = text.slice(2).split('.')[0];
    if (!EXPANSIONS.has(head)) report(at, `unknown expansion ${text}`);
  };
  const value = (v: unknown, at: string, depth: number): void => {
    if (depth > 64) return;
    if (typeof v === 'string') {
      if (v.startsWith('%%')) expansion(v, at);
      return;
    }
    if (Array.isArray(v)) return v.forEach((e, i) => value(e, `${at}[${i}]`, depth + 1));
    if (!isObject(v)) return;
    const keys = Object.keys(v);
    if (keys.length === 1 && VALUE_OPERATORS.has(keys[0])) {
      const operand = v[keys[0]];
      if (keys[0] === '%function') {
        if (!isObject(operand) || typeof operand.name !== 'string') report(at, `%function expects {"name": "<function>", "arguments": [...]}`);
        else if (operand.arguments !== undefined && !Array.isArray(operand.arguments)) report(at, `%function "arguments" must be an array`);
      } else if (isObject(operand) && !Object.keys(operand).some((k) => EJSON_KEYS.has(k))) report(at, `${keys[0]} takes a literal or an expansion, not another operator`);
      return;
    }
    if (keys.some((k) => k.startsWith('%%'))) return expression(v, at, depth + 1);
    if (keys.some((k) => EJSON_KEYS.has(k))) return;
    const ops = keys.filter((k) => operatorName(k) !== undefined);
    if (ops.length > 0 && ops.length !== keys.length) report(at, `cannot mix operators and field names (${keys.join(', ')})`);
    for (const k of ops) {
      const op = operatorName(k) ?? '';
      if (LOGICAL.has(op)) {
        const list = op === 'not' ? [v[k]] : v[k];
        if (!Array.isArray(list)) report(`${at}.${k}`, `expects an array`);
        else list.forEach((e, i) => value(e, `${at}.${k}[${i}]`, depth + 1));
      } else if (!COMPARISON.has(op)) report(at, `unknown operator ${k}`);
      else value(v[k], `${at}.${k}`, depth + 1);
    }
  };
  const expression = (e: unknown, at: string, depth: number): void => {
    if (depth > 64 || typeof e === 'boolean') return;
    if (typeof e === 'string' && e.startsWith('%%')) return expansion(e, at);
    if (!isObject(e)) {
      report(at, `an expression must be true, false or an object`);
      return;
    }
    for (const [key, v] of Object.entries(e)) {
      const op = operatorName(key);
      const here = at ? `${at}.${key}` : key;
      if (op !== undefined) {
        if (!LOGICAL.has(op)) report(here, `operator ${key} cannot be used as an expression field`);
        else if (op === 'not') expression(v, here, depth + 1);
        else if (!Array.isArray(v)) report(here, `expects an array`);
        else v.forEach((x, i) => expression(x, `${here}[${i}]`, depth + 1));
        continue;
      }
      if (key.startsWith('%%')) expansion(key, here);
      value(v, here, depth + 1);
    }
  };
  expression(raw, '', 0);
  return out;
}

function schemaExpressions(node: SchemaNode, into: CompiledExpr[] = []): CompiledExpr[] {
  if (node.validate) into.push(node.validate);
  const children: Array<SchemaNode | undefined> = [
    ...(node.properties?.values() ?? []),
    ...(node.patternProperties?.map((p) => p.schema) ?? []),
    typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined,
    typeof node.additionalItems === 'object' ? node.additionalItems : undefined,
    ...(Array.isArray(node.items) ? node.items : [node.items]),
    ...(node.allOf ?? []),
    ...(node.anyOf ?? []),
    ...(node.oneOf ?? []),
    node.not,
    ...[...(node.dependencies?.values() ?? [])].filter((d): d is SchemaNode => !Array.isArray(d)),
  ];
  for (const c of children) if (c) schemaExpressions(c, into);
  return into;
}

/** Splits an expression's `where` ("<file> <field>") back into file and field. */
function locate(expr: CompiledExpr): { file: string; field: string } {
  const i = expr.where.indexOf(' ');
  return i === -1 ? { file: expr.where, field: '' } : { file: expr.where.slice(0, i), field: expr.where.slice(i + 1) };
}

export interface RulesCheckReport {
  problems: RuleProblem[];
  /** What was checked, for the summary line. */
  counted: { dataSources: number; ruleFiles: number; roles: number; filters: number; schemas: number };
}

export function checkAppRules(app: AppDefinition): RulesCheckReport {
  const compiled = compileAppRules(app);
  const problems: RuleProblem[] = [];
  // The loader's own problems with these files (JSON syntax, unreadable files).
  for (const p of app.problems) {
    if (/^(data_sources|services)\//.test(p.file) && /(rules|schema|default_rule)\.json$|\/rules\/[^/]+\.json$/.test(p.file)) problems.push({ level: p.level, file: p.file, field: p.field, message: p.message });
  }
  problems.push(...compiled.problems);
  const counted = { dataSources: compiled.byService.size, ruleFiles: 0, roles: 0, filters: 0, schemas: 0 };
  const expressions: CompiledExpr[] = [];
  for (const ds of compiled.byService.values()) {
    const sets = [...(ds.defaultRule ? [ds.defaultRule] : []), ...[...ds.collections.values()].flatMap((c) => (c.rules && c.rules !== ds.defaultRule ? [c.rules] : []))];
    const seen = new Set<unknown>();
    for (const set of sets) {
      counted.ruleFiles++;
      for (const role of set.roles) {
        if (seen.has(role)) continue;
        seen.add(role);
        counted.roles++;
        expressions.push(...roleExpressions(role));
      }
      for (const f of set.filters) {
        if (seen.has(f)) continue;
        seen.add(f);
        counted.filters++;
        expressions.push(f.applyWhen);
      }
    }
    for (const c of ds.collections.values()) {
      if (!c.schema) continue;
      counted.schemas++;
      expressions.push(...schemaExpressions(c.schema.root));
    }
  }
  const linted = new Set<CompiledExpr>();
  for (const e of expressions) {
    if (linted.has(e) || e.constant !== undefined) continue;
    linted.add(e);
    const { file, field } = locate(e);
    for (const l of lintExpression(e.raw)) problems.push({ level: 'error', file, field: l.at ? `${field}.${l.at}` : field, message: l.message });
  }
  for (const fn of functionNames(expressions)) {
    if (!Object.prototype.hasOwnProperty.call(app.functions, fn.name)) problems.push({ level: 'error', ...locate(fn.expr), message: `%function calls "${fn.name}", which is not a function of this app` });
  }
  return { problems, counted };
}

function functionNames(expressions: CompiledExpr[]): Array<{ name: string; expr: CompiledExpr }> {
  const out: Array<{ name: string; expr: CompiledExpr }> = [];
  const walk = (v: unknown, expr: CompiledExpr, depth: number): void => {
    if (depth > 64) return;
    if (Array.isArray(v)) return v.forEach((e) => walk(e, expr, depth + 1));
    if (!isObject(v)) return;
    for (const [k, e] of Object.entries(v)) {
      if (k === '%function' && isObject(e) && typeof e.name === 'string') out.push({ name: e.name, expr });
      walk(e, expr, depth + 1);
    }
  };
  for (const e of expressions) if (e.async) walk(e.raw, e, 0);
  return out;
}
