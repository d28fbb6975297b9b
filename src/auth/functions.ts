// Running app code on auth's behalf (auth functions, confirmation/reset functions, run_as_user_id_script_source,
// %function in can_evaluate, on_user_creation): always through the worker pool, never in the main thread.
import { EJSON, ObjectId } from 'bson';
import type { FunctionInvocation, IncomingRequestData, InvocationResult, UserInfo } from '../runtime/types';
import { AuthError } from './errors';

export type RunFunction = (inv: FunctionInvocation) => Promise<InvocationResult>;

export interface CallSpec {
  /** Function name (or a label for an inline source, used in logs). */
  name: string;
  /** Inline source (`exports = ...`) instead of the named function. */
  source?: string;
  args: unknown[];
  user?: UserInfo | null;
  runAsSystem?: boolean;
  request?: IncomingRequestData;
}

/** Canonical EJSON text of an argument array. */
export function argsToEJSON(args: unknown[]): string {
  return EJSON.stringify(args, { relaxed: false });
}

/** Calls a function and returns its return value (relaxed EJSON decoded); a failure becomes an AuthError. */
export async function callFunction(run: RunFunction, spec: CallSpec, failStatus = 400): Promise<unknown> {
  const inv: FunctionInvocation = {
    kind: 'function',
    functionName: spec.name,
    argsEJSON: argsToEJSON(spec.args),
    logId: new ObjectId().toHexString(),
    user: spec.user ?? null,
    runAsSystem: spec.runAsSystem ?? true,
  };
  if (spec.source !== undefined) inv.source = spec.source;
  if (spec.request !== undefined) inv.request = spec.request;
  const result = await run(inv);
  if (result.error) throw new AuthError(result.error.code === 'FunctionNotFound' ? 404 : failStatus, result.error.code, result.error.message);
  return decodeResult(result);
}

export function decodeResult(result: InvocationResult): unknown {
  const body = result.body;
  if (!body || body.length === 0) return undefined;
  const text = typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  return EJSON.parse(text, { relaxed: true });
}
