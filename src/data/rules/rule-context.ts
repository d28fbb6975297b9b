// Evaluates compiled expressions for one caller (one service client, i.e. one invocation): %%user, %%request,
// %%values and %%environment are fixed, so an expression that does not look at the document is evaluated once
// and remembered; document expressions get %%root/%%prevRoot/%%this/%%prev per call.
import { DataError } from '../errors';
import type { CompiledExpr } from './compiled-expression';
import { evaluateExpression, evaluateExpressionSync, ExpressionError, expandValue, expandValueSync, usesFunctions } from './expression';
import type { ExpressionContext } from './expression';

export interface CallerInfo {
  /** §9.4 user object of the caller (null: none). */
  user: unknown;
  /** §6.2 context.request, when the invocation came from a request. */
  request?: unknown;
  /** Builds §6.2 context.request; called at most once, when an expression first reads %%request (wins over `request`). */
  getRequest?: () => unknown;
  values: Record<string, unknown>;
  environment: unknown;
  /** Runs an app function for `%function` (App Services runs it as system). */
  callFunction?: (name: string, args: unknown[]) => Promise<unknown>;
}

/** Document expansions for one evaluation. */
export interface DocumentScope {
  root?: unknown;
  prevRoot?: unknown;
  this?: unknown;
  prev?: unknown;
}

export type MaybePromise<T> = T | Promise<T>;

function malformed(expr: CompiledExpr, err: ExpressionError): DataError {
  const e = new DataError(2, 'BadValue', `rule expression ${expr.where} is invalid: ${err.message}`);
  return e;
}

export class RuleContext {
  private readonly memo = new Map<CompiledExpr, MaybePromise<boolean>>();
  private readonly base: ExpressionContext;

  constructor(readonly caller: CallerInfo) {
    this.base = {
      user: caller.user ?? undefined,
      request: caller.request,
      values: caller.values,
      environment: caller.environment,
      defaultTarget: 'root',
      callFunction: caller.callFunction,
    };
    const build = caller.getRequest;
    if (build) {
      // Most rules never read %%request: the request object is only built when one does.
      let built: { value: unknown } | undefined;
      Object.defineProperty(this.base, 'request', { enumerable: true, get: () => (built ??= { value: build() }).value });
    }
  }

  /** The expression's result for this caller (and document, when it looks at one). */
  eval(expr: CompiledExpr, scope?: DocumentScope): MaybePromise<boolean> {
    if (expr.constant !== undefined) return expr.constant;
    if (!expr.perDocument) {
      const known = this.memo.get(expr);
      if (known !== undefined) return known;
      const result = this.run(expr, this.base);
      this.memo.set(expr, result);
      return result;
    }
    if (expr.fast) return expr.fast(scope?.root, this.base.user);
    return this.run(expr, scope ? this.scoped(scope) : this.base);
  }

  /** The base context plus one document's expansions; inherits the rest (a spread would build a lazy %%request). */
  private scoped(scope: DocumentScope): ExpressionContext {
    const ctx = Object.create(this.base) as ExpressionContext;
    ctx.root = scope.root;
    ctx.prevRoot = scope.prevRoot;
    ctx.this = scope.this;
    ctx.prev = scope.prev;
    return ctx;
  }

  private run(expr: CompiledExpr, ctx: ExpressionContext): MaybePromise<boolean> {
    if (expr.async) {
      return evaluateExpression(expr.raw, ctx).catch((err: unknown) => {
        throw err instanceof ExpressionError ? malformed(expr, err) : err;
      });
    }
    try {
      return evaluateExpressionSync(expr.raw, ctx);
    } catch (err) {
      throw err instanceof ExpressionError ? malformed(expr, err) : err;
    }
  }

  /** Replaces expansions inside a filter's query (`{"owner_id": "%%user.id"}`). */
  async expand(value: unknown, where: string): Promise<unknown> {
    try {
      return usesFunctions(value) ? await expandValue(value, this.base) : expandValueSync(value, this.base);
    } catch (err) {
      if (err instanceof ExpressionError) throw new DataError(2, 'BadValue', `${where} is invalid: ${err.message}`);
      throw err;
    }
  }
}
