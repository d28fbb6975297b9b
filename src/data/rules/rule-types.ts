// The compiled form of a data source's rules (spec §12.1): what rules.json / default_rule.json / schema.json say,
// checked and analysed once per app load, so that per-document work never re-reads JSON.
import type { CompiledExpr } from './compiled-expression';
import type { CompiledSchema } from './schema-types';

export interface CompiledFieldRule {
  read?: CompiledExpr;
  write?: CompiledExpr;
  /** Embedded fields of a sub-document (nested `fields`). */
  fields: Map<string, CompiledFieldRule>;
}

export interface CompiledRole {
  name: string;
  /** Position in the roles array (role order). */
  index: number;
  /** `data_sources/mongodb-atlas/shop/orders/rules.json roles[0] ("owner")`, for diagnostics. */
  where: string;
  applyWhen: CompiledExpr;
  documentFilters: { read?: CompiledExpr; write?: CompiledExpr };
  /** Document-level read/write (undefined: not granted at document level). */
  read?: CompiledExpr;
  write?: CompiledExpr;
  insert: CompiledExpr;
  delete: CompiledExpr;
  search: CompiledExpr;
  fields: Map<string, CompiledFieldRule>;
  additionalFields: { read?: CompiledExpr; write?: CompiledExpr };
  /** True when any expression of the role depends on the document. */
  perDocument: boolean;
}

export interface CompiledFilter {
  name: string;
  where: string;
  applyWhen: CompiledExpr;
  /** Merged into the operation's query after expansion (undefined or {}: nothing). */
  query?: Record<string, unknown>;
  /** Applied to results (find-style projection). */
  projection?: Record<string, unknown>;
}

/** What governs one collection: its own roles, or the data source's default rule. */
export interface CollectionRules {
  /** `db.coll`. */
  namespace: string;
  /** Where the roles come from (rules.json or default_rule.json). */
  source: string;
  roles: CompiledRole[];
  filters: CompiledFilter[];
  schema?: CompiledSchema;
}

export interface CompiledDataSourceRules {
  serviceName: string;
  /** Keyed by `db/coll`. Roles and filters already resolved (collection rules replace the default rule). */
  collections: Map<string, { rules?: { roles: CompiledRole[]; filters: CompiledFilter[]; source: string }; schema?: CompiledSchema }>;
  defaultRule?: { roles: CompiledRole[]; filters: CompiledFilter[]; source: string };
}

/** A problem found while compiling rules or schemas: file relative to the app dir, field as a JSON path. */
export interface RuleProblem {
  level: 'error' | 'warning';
  file: string;
  field?: string;
  message: string;
}
