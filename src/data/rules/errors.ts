// Errors the rules layer throws into user functions. The message is App Services' own wording; which rule, role
// or schema path decided it is in `ruleDetail` (for the log record), never in the message a client may see.
import { DataError } from '../errors';
import type { SchemaFailure } from './schema-types';

export type WriteKind = 'insert' | 'update' | 'delete';

export class RuleDeniedError extends DataError {
  /** Which rules file, role and field decided it, e.g. `…/rules.json roles[0] ("owner"): field "status" is not writable`. */
  readonly ruleDetail: string;

  constructor(code: number, codeName: string, message: string, detail: string) {
    super(code, codeName, message);
    this.ruleDetail = detail;
  }
}

/** `insert not permitted` / `update not permitted` / `delete not permitted`. */
export function notPermitted(kind: WriteKind, detail: string): RuleDeniedError {
  return new RuleDeniedError(13, 'Unauthorized', `${kind} not permitted`, detail);
}

/** App Services' answer when a collection has no rules and the data source no default rule. */
export function noRuleForNamespace(db: string, collection: string, detail: string): RuleDeniedError {
  return new RuleDeniedError(13, 'NoMatchingRuleFound', `no rule exists for namespace '${db}.${collection}'`, detail);
}

/** An operator, stage or option App Services only allows in system functions. */
export function systemOnlyFeature(what: string): RuleDeniedError {
  return new RuleDeniedError(
    13,
    'Unauthorized',
    `${what} is not allowed for application users (App Services allows it only in functions that run as system)`,
    `user restrictions of the MongoDB service: ${what}`,
  );
}

export class SchemaValidationError extends RuleDeniedError {
  readonly failures: SchemaFailure[];

  constructor(kind: WriteKind, failures: SchemaFailure[], schemaFile: string) {
    const lines = failures.map((f) => `${f.field}: ${f.message}`);
    super(121, 'SchemaValidationFailedWrite', `Failed to ${kind} document: could not validate document: \n\t${lines.join('\n\t')}`, `${schemaFile}: ${failures.map((f) => `${f.field} (schema ${f.schemaPath})`).join(', ')}`);
    this.failures = failures;
  }
}
