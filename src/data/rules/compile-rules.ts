// default_rule.json, <db>/<coll>/rules.json (and the legacy forms) -> CompiledDataSourceRules (spec §12.1).
// Every mistake becomes a RuleProblem naming the file and the field; a broken role is dropped (denying, never
// granting, access), a broken filter is dropped with an error.
import type { DataSourceDef } from '../../app/types';
import { ALWAYS, compileExpression, NEVER } from './compiled-expression';
import type { CompiledExpr } from './compiled-expression';
import { ExpressionError } from './expression';
import type { CompiledDataSourceRules, CompiledFieldRule, CompiledFilter, CompiledRole, RuleProblem } from './rule-types';
import { compileSchema } from './schema-compile';
import type { CompiledSchema } from './schema-types';

const ROLE_KEYS = new Set(['name', 'apply_when', 'document_filters', 'read', 'write', 'insert', 'delete', 'search', 'fields', 'additional_fields']);
const FILTER_KEYS = new Set(['name', 'apply_when', 'query', 'projection', 'project']);
const DOCUMENT_EXPANSION = /%%(root|prevRoot|this|prev)\b/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class RulesCompiler {
  constructor(
    private readonly file: string,
    private readonly problems: RuleProblem[],
  ) {}

  error(field: string | undefined, message: string): void {
    this.problems.push({ level: 'error', file: this.file, field, message });
  }

  warning(field: string | undefined, message: string): void {
    this.problems.push({ level: 'warning', file: this.file, field, message });
  }

  /** An expression, or undefined (with an error) when malformed. */
  expr(raw: unknown, field: string, fallback?: CompiledExpr): CompiledExpr | undefined {
    if (raw === undefined) return fallback;
    try {
      return compileExpression(raw, `${this.file} ${field}`);
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      this.error(field, 'must be a rule expression (true, false or an object)');
      return NEVER;
    }
  }

  fieldRules(raw: unknown, field: string): Map<string, CompiledFieldRule> {
    const out = new Map<string, CompiledFieldRule>();
    if (raw === undefined) return out;
    if (!isObject(raw)) {
      this.error(field, 'fields must be an object keyed by field name');
      return out;
    }
    for (const [name, rule] of Object.entries(raw)) {
      const at = `${field}.${name}`;
      if (!isObject(rule)) {
        this.error(at, 'a field rule must be an object with read, write and/or fields');
        continue;
      }
      for (const k of Object.keys(rule)) if (k !== 'read' && k !== 'write' && k !== 'fields') this.warning(`${at}.${k}`, `unknown field rule key "${k}" is ignored`);
      out.set(name, { read: this.expr(rule.read, `${at}.read`), write: this.expr(rule.write, `${at}.write`), fields: this.fieldRules(rule.fields, `${at}.fields`) });
    }
    return out;
  }

  role(raw: unknown, index: number, prefix: string): CompiledRole | undefined {
    const at = `${prefix}[${index}]`;
    if (!isObject(raw)) {
      this.error(at, 'a role must be an object; this role is ignored (it grants nothing)');
      return undefined;
    }
    const name = typeof raw.name === 'string' ? raw.name : `#${index}`;
    if (typeof raw.name !== 'string' || raw.name === '') this.error(`${at}.name`, 'a role needs a name');
    else if (raw.name.length > 100) this.warning(`${at}.name`, 'role names are limited to 100 characters in App Services');
    for (const k of Object.keys(raw)) if (!ROLE_KEYS.has(k)) this.warning(`${at}.${k}`, `unknown role key "${k}" is ignored`);
    const df = raw.document_filters;
    if (df !== undefined && !isObject(df)) this.error(`${at}.document_filters`, 'document_filters must be an object with read and/or write');
    const additional = raw.additional_fields;
    if (additional !== undefined && !isObject(additional)) this.error(`${at}.additional_fields`, 'additional_fields must be an object with read and/or write');
    if (raw.search !== undefined && typeof raw.search !== 'boolean' && !isObject(raw.search)) this.error(`${at}.search`, 'search must be a boolean');
    const role: CompiledRole = {
      name,
      index,
      where: `${this.file} ${at} ("${name}")`,
      applyWhen: this.expr(raw.apply_when, `${at}.apply_when`, ALWAYS) ?? ALWAYS,
      documentFilters: isObject(df) ? { read: this.expr(df.read, `${at}.document_filters.read`), write: this.expr(df.write, `${at}.document_filters.write`) } : {},
      read: this.expr(raw.read, `${at}.read`),
      write: this.expr(raw.write, `${at}.write`),
      insert: this.expr(raw.insert, `${at}.insert`, ALWAYS) ?? ALWAYS,
      delete: this.expr(raw.delete, `${at}.delete`, ALWAYS) ?? ALWAYS,
      search: this.expr(raw.search, `${at}.search`, ALWAYS) ?? ALWAYS,
      fields: this.fieldRules(raw.fields, `${at}.fields`),
      additionalFields: isObject(additional) ? { read: this.expr(additional.read, `${at}.additional_fields.read`), write: this.expr(additional.write, `${at}.additional_fields.write`) } : {},
      perDocument: false,
    };
    role.perDocument = roleExpressions(role).some((e) => e.perDocument);
    return role;
  }

  filter(raw: unknown, index: number, prefix: string): CompiledFilter | undefined {
    const at = `${prefix}[${index}]`;
    if (!isObject(raw)) {
      this.error(at, 'a filter must be an object; this filter is ignored');
      return undefined;
    }
    for (const k of Object.keys(raw)) if (!FILTER_KEYS.has(k)) this.warning(`${at}.${k}`, `unknown filter key "${k}" is ignored`);
    const name = typeof raw.name === 'string' && raw.name !== '' ? raw.name : `#${index}`;
    const applyWhen = this.expr(raw.apply_when, `${at}.apply_when`, ALWAYS) ?? ALWAYS;
    if (DOCUMENT_EXPANSION.test(JSON.stringify(raw.apply_when ?? {})) || applyWhen.perDocument) {
      this.error(`${at}.apply_when`, 'a filter\'s apply_when cannot refer to the document (%%root or field names): filters are applied before any document is read; this filter is ignored');
      return undefined;
    }
    if (raw.query !== undefined && !isObject(raw.query)) {
      this.error(`${at}.query`, 'query must be a query document; this filter is ignored');
      return undefined;
    }
    let projection = raw.projection ?? raw.project;
    if (raw.project !== undefined && raw.projection === undefined) this.warning(`${at}.project`, '"project" is read as "projection"');
    if (projection !== undefined && !isObject(projection)) {
      this.error(`${at}.projection`, 'projection must be a projection document; this filter is ignored');
      return undefined;
    }
    if (isObject(projection) && Object.keys(projection).length === 0) projection = undefined;
    const query = isObject(raw.query) && Object.keys(raw.query).length > 0 ? raw.query : undefined;
    return { name, where: `${this.file} ${at} ("${name}")`, applyWhen, query, projection: projection as Record<string, unknown> | undefined };
  }

  /** roles + filters of one rules object; `legacyTopLevel` accepts the old single-rule form (read/write at the top). */
  ruleSet(raw: Record<string, unknown>): { roles: CompiledRole[]; filters: CompiledFilter[] } {
    let rolesRaw = raw.roles;
    if (rolesRaw === undefined && (raw.read !== undefined || raw.write !== undefined)) {
      // Early Stitch rules: one rule with read/write/fields/other_fields at the top level.
      this.warning(undefined, 'old single-rule form (read/write at the top level) is read as one role that always applies');
      rolesRaw = [{ name: 'legacy', apply_when: {}, read: raw.read, write: raw.write, insert: raw.write ?? true, delete: raw.write ?? true, fields: raw.fields, additional_fields: raw.other_fields ?? raw.additional_fields }];
      if (raw.valid !== undefined) this.warning('valid', 'the old "valid" rule is not enforced; move it into schema.json (validate)');
    }
    const roles: CompiledRole[] = [];
    if (rolesRaw !== undefined && !Array.isArray(rolesRaw)) this.error('roles', 'roles must be an array');
    else (rolesRaw ?? []).forEach((r: unknown, i: number) => {
      const role = this.role(r, i, 'roles');
      if (role) roles.push(role);
    });
    const names = new Set<string>();
    for (const r of roles) {
      if (names.has(r.name)) this.warning(`roles[${r.index}].name`, `role name "${r.name}" is used twice`);
      names.add(r.name);
    }
    const filters: CompiledFilter[] = [];
    if (raw.filters !== undefined && !Array.isArray(raw.filters)) this.error('filters', 'filters must be an array');
    else (raw.filters as unknown[] | undefined ?? []).forEach((f: unknown, i: number) => {
      const filter = this.filter(f, i, 'filters');
      if (filter) filters.push(filter);
    });
    return { roles, filters };
  }
}

function fieldExpressions(fields: Map<string, CompiledFieldRule>): CompiledExpr[] {
  const out: CompiledExpr[] = [];
  for (const rule of fields.values()) {
    if (rule.read) out.push(rule.read);
    if (rule.write) out.push(rule.write);
    out.push(...fieldExpressions(rule.fields));
  }
  return out;
}

/** Every expression of a role. */
export function roleExpressions(role: CompiledRole): CompiledExpr[] {
  const list = [role.applyWhen, role.documentFilters.read, role.documentFilters.write, role.read, role.write, role.insert, role.delete, role.search, role.additionalFields.read, role.additionalFields.write, ...fieldExpressions(role.fields)];
  return list.filter((e): e is CompiledExpr => e !== undefined);
}

/**
 * Compiles every rules file and schema of one data source. Collection rules with at least one role replace the
 * default rule; a collection rules file with no roles uses the default roles (with its own filters when it
 * declares any).
 */
export function compileDataSourceRules(def: DataSourceDef, problems: RuleProblem[]): CompiledDataSourceRules {
  const base = def.definedIn.replace(/\/config\.json$/, '');
  const out: CompiledDataSourceRules = { serviceName: def.name, collections: new Map() };
  if (def.defaultRule !== undefined) {
    const file = `${base}/default_rule.json`;
    const c = new RulesCompiler(file, problems);
    if (!isObject(def.defaultRule)) c.error(undefined, 'must be a JSON object with roles and filters; no default rule is used');
    else out.defaultRule = { ...c.ruleSet(def.defaultRule), source: file };
  }
  for (const [key, entry] of Object.entries(def.collections)) {
    const compiled: { rules?: { roles: CompiledRole[]; filters: CompiledFilter[]; source: string }; schema?: CompiledSchema } = {};
    if (entry.rules !== undefined) {
      const file = entry.rulesFile ?? `${base}/${key}/rules.json`;
      const c = new RulesCompiler(file, problems);
      if (!isObject(entry.rules)) c.error(undefined, 'must be a JSON object with roles and filters; the collection gets no access');
      else {
        const set = c.ruleSet(entry.rules);
        const declaresRoles = Array.isArray(entry.rules.roles) ? entry.rules.roles.length > 0 : set.roles.length > 0;
        if (declaresRoles) compiled.rules = { ...set, source: file };
        else if (set.filters.length > 0 || out.defaultRule) {
          compiled.rules = { roles: out.defaultRule?.roles ?? [], filters: set.filters.length > 0 ? set.filters : out.defaultRule?.filters ?? [], source: out.defaultRule?.source ?? file };
        } else {
          // A rules file without roles and without a default rule: no role can ever match.
          compiled.rules = { roles: [], filters: [], source: file };
          c.warning('roles', 'no roles and no default rule: application users get no access to this collection');
        }
        if (entry.schema === undefined && isObject(entry.rules.schema)) compiled.schema = compileSchema(entry.rules.schema, file, problems);
      }
    }
    if (entry.schema !== undefined) {
      const file = entry.schemaFile ?? `${base}/${key}/schema.json`;
      compiled.schema = compileSchema(entry.schema, file, problems);
    }
    out.collections.set(key, compiled);
  }
  return out;
}
