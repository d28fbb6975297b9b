// §7.2: status and body of an endpoint invocation, from respond_result, what the function set on the response
// object and what it returned; §7.3/§7.4: encoding and Content-Type.
import type { ReturnType } from '../app/types';
import { encodeEJSON, encodeJSON } from './encode';
import { responseState, type ResponseBody } from './http-response';
import type { WorkerResult } from './wire';

/** Framing belongs to the server (policies "HTTP edges"): these headers set by a function are ignored. */
const FRAMING_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade']);

export interface EndpointOutcome {
  respondResult: boolean;
  returnType: ReturnType;
  /** The response object handed to the function. */
  response: unknown;
  /** The function's return value, already awaited/drained. */
  returned: unknown;
  logs: string[];
}

export function endpointResult(outcome: EndpointOutcome): WorkerResult {
  const state = responseState(outcome.response);
  if (!state) throw new Error('internal: response object missing');
  const headers: Array<[string, string]> = [];
  let functionContentType: Array<[string, string]> = [];
  for (const [lower, { name, values }] of state.headers) {
    if (FRAMING_HEADERS.has(lower)) continue;
    const target = lower === 'content-type' ? (functionContentType = []) : headers;
    for (const value of values) target.push([name, value]);
  }

  let status: number;
  let body: ResponseBody | null = null;
  let contentType = functionContentType;
  if (state.body !== undefined) {
    // setBody always wins over the return value, whatever respond_result says.
    status = state.status ?? 200;
    body = state.body;
    if (contentType.length === 0 && body.length > 0) contentType = [['Content-Type', 'text/plain; charset=utf-8']];
  } else if (outcome.respondResult) {
    status = state.status ?? 200;
    // Returning the response object itself (`return response.setStatusCode(201)`) is "no return value".
    const value = outcome.returned === outcome.response ? undefined : outcome.returned;
    if (value !== undefined) {
      const ejson = outcome.returnType === 'EJSON';
      body = ejson ? encodeEJSON(value) : encodeJSON(value);
      contentType = [['Content-Type', ejson ? 'application/ejson' : 'application/json']];
    }
  } else {
    status = state.status ?? 204;
  }
  if (body !== null && body.length === 0) body = null;
  return { status, headers: [...contentType, ...headers], body, logs: outcome.logs };
}
