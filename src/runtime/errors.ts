// App Services error codes produced by the runtime, and the failed-result shape the pool hands back.
import type { InvocationError, InvocationResult } from './types';

export const ErrorCode = {
  FunctionExecutionError: 'FunctionExecutionError',
  FunctionNotFound: 'FunctionNotFound',
  FunctionSyntaxError: 'FunctionSyntaxError',
  ExecutionTimeLimitExceeded: 'ExecutionTimeLimitExceeded',
  InvalidParameter: 'InvalidParameter',
  InternalServerError: 'InternalServerError',
} as const;

export const Messages = {
  timeLimit: 'execution time limit exceeded',
  asyncQueue: 'exceeded max async work queue size of 1000',
  workerStopped: 'function worker was stopped while this invocation was running (another invocation on it exceeded its limits)',
  workerCrashed: 'function worker crashed while this invocation was running',
  shuttingDown: 'function runtime is shutting down',
  functionNotFound: (name: string): string => `function not found: '${name}'`,
  memoryLimit: (mb: number): string => `memory limit of ${mb} MB exceeded`,
  workerOutOfMemory: 'function worker ran out of memory because of another invocation while this invocation was running',
  cannotStart: (detail: string): string => `function workers cannot start: ${detail}`,
  memoryLimitUnattributed: (mb: number): string =>
    `function worker ran out of memory (memory limit of ${mb} MB exceeded) while this invocation was running`,
} as const;

/** A failure with an App Services error code, thrown inside the worker and turned into InvocationResult.error. */
export class InvocationFailure extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'InvocationFailure';
  }
}

export function failedResult(error: InvocationError, logs: string[] = []): InvocationResult {
  return { status: 0, headers: [], body: null, logs, error };
}

/** The message App Services reports for a thrown value: Error#message, else the value's string form. */
export function thrownMessage(thrown: unknown): string {
  if (thrown instanceof Error || isErrorLike(thrown)) {
    const message = (thrown as { message: unknown }).message;
    return typeof message === 'string' ? message : safeString(message);
  }
  return safeString(thrown);
}

function isErrorLike(value: unknown): boolean {
  // Errors from a vm context are not `instanceof Error` of this realm.
  return typeof value === 'object' && value !== null && Object.prototype.toString.call(value) === '[object Error]';
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return 'unknown error (the thrown value cannot be converted to a string)';
  }
}
