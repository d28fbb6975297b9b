// schema.json -> SchemaNode tree (spec §12.4). Every keyword is checked here, once, with the file and the
// schema path in the problem, so that validation never meets a malformed schema.
import { BSON_TYPE_NAMES, JSON_TYPE_NAMES } from './bson-types';
import { compileExpression } from './compiled-expression';
import { ExpressionError } from './expression';
import type { RuleProblem } from './rule-types';
import type { CompiledSchema, SchemaNode } from './schema-types';

/** Keywords that only describe (never validate). */
const ANNOTATIONS = new Set(['title', 'description', 'default', 'examples', '$schema', '$id', 'id', 'definitions', '$comment', 'format']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class SchemaCompiler {
  constructor(
    private readonly file: string,
    private readonly problems: RuleProblem[],
  ) {}

  private error(where: string, message: string): void {
    this.problems.push({ level: 'error', file: this.file, field: where || '(root)', message });
  }

  private warning(where: string, message: string): void {
    this.problems.push({ level: 'warning', file: this.file, field: where || '(root)', message });
  }

  private count(raw: Record<string, unknown>, key: string, where: string): number | undefined {
    const v = raw[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      this.error(join(where, key), `${key} must be a non-negative integer`);
      return undefined;
    }
    return v;
  }

  private number(raw: Record<string, unknown>, key: string, where: string): number | undefined {
    const v = raw[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      this.error(join(where, key), `${key} must be a number`);
      return undefined;
    }
    return v;
  }

  private regex(raw: Record<string, unknown>, key: string, where: string): RegExp | undefined {
    const v = raw[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') {
      this.error(join(where, key), `${key} must be a string (a regular expression)`);
      return undefined;
    }
    try {
      return new RegExp(v);
    } catch (err) {
      this.error(join(where, key), `invalid regular expression: ${(err as Error).message}`);
      return undefined;
    }
  }

  private typeList(raw: Record<string, unknown>, key: 'bsonType' | 'type', where: string): string[] | undefined {
    const v = raw[key];
    if (v === undefined) return undefined;
    const list = Array.isArray(v) ? v : [v];
    const known = key === 'bsonType' ? BSON_TYPE_NAMES : JSON_TYPE_NAMES;
    const out: string[] = [];
    for (const t of list) {
      if (typeof t !== 'string' || !known.has(t)) {
        this.error(join(where, key), `unknown ${key} ${JSON.stringify(t)}; expected one of ${[...known].join(', ')}`);
        continue;
      }
      out.push(t);
    }
    return out.length > 0 ? out : undefined;
  }

  private list(raw: Record<string, unknown>, key: string, where: string): SchemaNode[] | undefined {
    const v = raw[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length === 0) {
      this.error(join(where, key), `${key} must be a non-empty array of schemas`);
      return undefined;
    }
    return v.map((s, i) => this.node(s, `${join(where, key)}.${i}`));
  }

  private booleanOrSchema(raw: Record<string, unknown>, key: string, where: string): boolean | SchemaNode | undefined {
    const v = raw[key];
    if (v === undefined || typeof v === 'boolean') return v;
    if (isObject(v)) return this.node(v, join(where, key));
    this.error(join(where, key), `${key} must be a boolean or a schema`);
    return undefined;
  }

  node(raw: unknown, where: string): SchemaNode {
    const node: SchemaNode = { where: where || '(root)' };
    if (!isObject(raw)) {
      this.error(where, 'a schema must be a JSON object');
      return node;
    }
    if (raw.bsonType !== undefined && raw.type !== undefined) {
      this.warning(where, 'bsonType and type are both given; App Services expects one of them (both are checked)');
    }
    node.bsonTypes = this.typeList(raw, 'bsonType', where);
    node.jsonTypes = this.typeList(raw, 'type', where);
    if (raw.enum !== undefined) {
      if (!Array.isArray(raw.enum) || raw.enum.length === 0) this.error(join(where, 'enum'), 'enum must be a non-empty array');
      else node.enum = raw.enum;
    }
    if (raw.required !== undefined) {
      if (!Array.isArray(raw.required) || raw.required.some((r) => typeof r !== 'string')) this.error(join(where, 'required'), 'required must be an array of field names');
      else node.required = raw.required as string[];
    }
    if (raw.properties !== undefined) {
      if (!isObject(raw.properties)) this.error(join(where, 'properties'), 'properties must be an object of schemas');
      else {
        node.properties = new Map();
        for (const [name, sub] of Object.entries(raw.properties)) node.properties.set(name, this.node(sub, `${join(where, 'properties')}.${name}`));
      }
    }
    node.additionalProperties = this.booleanOrSchema(raw, 'additionalProperties', where);
    if (raw.patternProperties !== undefined) {
      if (!isObject(raw.patternProperties)) this.error(join(where, 'patternProperties'), 'patternProperties must be an object');
      else {
        node.patternProperties = [];
        for (const [pattern, sub] of Object.entries(raw.patternProperties)) {
          const at = `${join(where, 'patternProperties')}.${pattern}`;
          try {
            node.patternProperties.push({ pattern: new RegExp(pattern), schema: this.node(sub, at) });
          } catch (err) {
            this.error(at, `invalid regular expression: ${(err as Error).message}`);
          }
        }
      }
    }
    node.minProperties = this.count(raw, 'minProperties', where);
    node.maxProperties = this.count(raw, 'maxProperties', where);
    if (raw.dependencies !== undefined) {
      if (!isObject(raw.dependencies)) this.error(join(where, 'dependencies'), 'dependencies must be an object');
      else {
        node.dependencies = new Map();
        for (const [name, dep] of Object.entries(raw.dependencies)) {
          const at = `${join(where, 'dependencies')}.${name}`;
          if (Array.isArray(dep) && dep.every((d) => typeof d === 'string')) node.dependencies.set(name, dep as string[]);
          else if (isObject(dep)) node.dependencies.set(name, this.node(dep, at));
          else this.error(at, 'a dependency must be an array of field names or a schema');
        }
      }
    }
    node.minLength = this.count(raw, 'minLength', where);
    node.maxLength = this.count(raw, 'maxLength', where);
    node.pattern = this.regex(raw, 'pattern', where);
    node.minimum = this.number(raw, 'minimum', where);
    node.maximum = this.number(raw, 'maximum', where);
    for (const key of ['exclusiveMinimum', 'exclusiveMaximum'] as const) {
      const v = raw[key];
      if (v === undefined) continue;
      if (typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) node[key] = v;
      else this.error(join(where, key), `${key} must be a boolean (draft 4) or a number`);
    }
    node.multipleOf = this.number(raw, 'multipleOf', where);
    if (node.multipleOf !== undefined && node.multipleOf <= 0) {
      this.error(join(where, 'multipleOf'), 'multipleOf must be greater than 0');
      node.multipleOf = undefined;
    }
    if (raw.items !== undefined) {
      if (Array.isArray(raw.items)) node.items = raw.items.map((s, i) => this.node(s, `${join(where, 'items')}.${i}`));
      else if (isObject(raw.items)) node.items = this.node(raw.items, join(where, 'items'));
      else this.error(join(where, 'items'), 'items must be a schema or an array of schemas');
    }
    node.additionalItems = this.booleanOrSchema(raw, 'additionalItems', where);
    node.minItems = this.count(raw, 'minItems', where);
    node.maxItems = this.count(raw, 'maxItems', where);
    if (raw.uniqueItems !== undefined) {
      if (typeof raw.uniqueItems !== 'boolean') this.error(join(where, 'uniqueItems'), 'uniqueItems must be a boolean');
      else node.uniqueItems = raw.uniqueItems;
    }
    node.allOf = this.list(raw, 'allOf', where);
    node.anyOf = this.list(raw, 'anyOf', where);
    node.oneOf = this.list(raw, 'oneOf', where);
    if (raw.not !== undefined) {
      if (isObject(raw.not)) node.not = this.node(raw.not, join(where, 'not'));
      else this.error(join(where, 'not'), 'not must be a schema');
    }
    if (raw.validate !== undefined) {
      try {
        node.validate = compileExpression(raw.validate, `${this.file} ${join(where, 'validate')}`);
      } catch (err) {
        if (!(err instanceof ExpressionError)) throw err;
        this.error(join(where, 'validate'), 'validate must be a rule expression (true, false or an object)');
      }
    }
    for (const key of Object.keys(raw)) {
      if (!KNOWN_KEYWORDS.has(key) && !ANNOTATIONS.has(key)) this.warning(join(where, key), `unknown schema keyword "${key}" is ignored`);
    }
    return node;
  }
}

const KNOWN_KEYWORDS = new Set([
  'bsonType', 'type', 'enum', 'required', 'properties', 'additionalProperties', 'patternProperties', 'minProperties',
  'maxProperties', 'dependencies', 'minLength', 'maxLength', 'pattern', 'minimum', 'maximum', 'exclusiveMinimum',
  'exclusiveMaximum', 'multipleOf', 'items', 'additionalItems', 'minItems', 'maxItems', 'uniqueItems', 'allOf',
  'anyOf', 'oneOf', 'not', 'validate',
]);

function join(where: string, key: string): string {
  return where ? `${where}.${key}` : key;
}

/**
 * Compiles a collection schema. A root without bsonType/type is an object schema (real exports omit it);
 * a root declared as anything but an object is an error.
 */
export function compileSchema(raw: unknown, file: string, problems: RuleProblem[]): CompiledSchema {
  const compiler = new SchemaCompiler(file, problems);
  const root = compiler.node(raw, '');
  if (root.bsonTypes === undefined && root.jsonTypes === undefined) root.bsonTypes = ['object'];
  else if (!(root.bsonTypes ?? root.jsonTypes ?? []).includes('object')) {
    problems.push({ level: 'error', file, field: '(root)', message: 'the root schema of a collection must be bsonType "object"' });
  }
  return { file, root };
}
