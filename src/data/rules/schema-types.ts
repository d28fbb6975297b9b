// The compiled form of an App Services JSON Schema (spec §12.4).
import type { CompiledExpr } from './compiled-expression';

export interface SchemaNode {
  /** Where this node sits in schema.json (`properties.owner_id`), for diagnostics. */
  where: string;
  /** Accepted BSON type names (bsonType), already checked against the known list; undefined: any. */
  bsonTypes?: string[];
  /** Accepted JSON Schema types (type); undefined: any. */
  jsonTypes?: string[];
  enum?: unknown[];
  // Objects
  required?: string[];
  properties?: Map<string, SchemaNode>;
  /** false: no other properties; a schema: other properties must match it; undefined/true: anything. */
  additionalProperties?: boolean | SchemaNode;
  patternProperties?: Array<{ pattern: RegExp; schema: SchemaNode }>;
  minProperties?: number;
  maxProperties?: number;
  dependencies?: Map<string, string[] | SchemaNode>;
  // Strings
  minLength?: number;
  maxLength?: number;
  pattern?: RegExp;
  // Numbers (draft 4: exclusiveMinimum/Maximum are booleans; a number is accepted too, as in draft 6+)
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean | number;
  exclusiveMaximum?: boolean | number;
  multipleOf?: number;
  // Arrays
  items?: SchemaNode | SchemaNode[];
  additionalItems?: boolean | SchemaNode;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  // Combinators
  allOf?: SchemaNode[];
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  not?: SchemaNode;
  /** App Services per-field rule: %%this/%%prev are the field's new/old value, %%root/%%prevRoot the documents. */
  validate?: CompiledExpr;
}

export interface CompiledSchema {
  /** schema.json (or the legacy rules file that carried it), relative to the app dir. */
  file: string;
  root: SchemaNode;
}

/** One reason a document does not match its schema. */
export interface SchemaFailure {
  /** Path of the failing field in the document, `(root)` for the document itself, e.g. `items.0.price`. */
  field: string;
  message: string;
  /** The schema node that decided it (schema.json path). */
  schemaPath: string;
}
