// App Services error bodies (§8): {"error", "error_code", "link"}. Every error Atrium answers, on any path, has this shape.

export interface ErrorBody {
  error: string;
  error_code: string;
  link?: string;
}


/** HTTP status for an error_code that comes back from a function invocation (§8.3; decisions in docs/compat.md). */
export function statusForInvocationError(code: string): number {
  switch (code) {
    case 'FunctionNotFound':
      return 404;
    case 'InternalServerError':
      return 500;
    case 'ServiceUnavailable':
      return 503;
    default:
      // FunctionExecutionError, ExecutionTimeLimitExceeded, FunctionSyntaxError, ... : App Services answered 400.
      return 400;
  }
}

export function errorBody(code: string, message: string, link?: string): string {
  const body: ErrorBody = { error: message, error_code: code };
  if (link) body.link = link;
  return JSON.stringify(body);
}
