// Rules, roles, filters and schemas for application users (spec §12). The data layer wraps the DataSource of a
// non-system caller with wrapWithRules(); system callers get the DataSource itself.
import type { AppDefinition } from '../../app/types';
import type { ExecutionIdentity } from '../../runtime/types';
import type { DataSource } from '../types';
import { rulesForService } from './compiled-app';
import { RuleContext } from './rule-context';
import { RulesDataSource } from './rules-source';

export { evaluateExpression, evaluateExpressionSync, expandValue, expandValueSync, usesFunctions, ExpressionError } from './expression';
export type { ExpressionContext } from './expression';
export { compileAppRules } from './compiled-app';
export type { CompiledAppRules } from './compiled-app';
export { checkAppRules } from './check';
export type { RulesCheckReport } from './check';
export { RuleDeniedError, SchemaValidationError } from './errors';
export type { RuleProblem } from './rule-types';
export type { SchemaFailure } from './schema-types';
export { RulesDataSource } from './rules-source';

export interface RulesCallerExtras {
  /** §6.2 context.request of the invocation, for %%request. */
  request?: unknown;
  /** Builds context.request on first %%request read (the runtime builds it lazily); wins over `request`. */
  getRequest?: () => unknown;
  /** Runs an app function (as system) for `%function` in rules and schema `validate`. */
  callFunction?: (name: string, args: unknown[]) => Promise<unknown>;
}

/**
 * The DataSource a caller's operations must go through: `source` itself for system callers, otherwise a
 * RulesDataSource enforcing the data source's rules and schemas for `identity.user`. Rules are compiled once per
 * app object and thread; calling this per invocation is cheap.
 */
export function wrapWithRules(source: DataSource, app: AppDefinition, serviceName: string, identity: ExecutionIdentity, extras: RulesCallerExtras = {}): DataSource {
  if (identity.runAsSystem) return source;
  const ctx = new RuleContext({
    user: identity.user,
    request: extras.request,
    getRequest: extras.getRequest,
    values: app.values,
    environment: app.environment,
    callFunction: extras.callFunction,
  });
  return new RulesDataSource(source, rulesForService(app, serviceName), ctx);
}
