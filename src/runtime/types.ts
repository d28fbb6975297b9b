// What the main thread and the function workers say to each other.
// The main thread owns HTTP, auth and validation; a worker builds the request/response objects,
// runs the function, drains/awaits its result and encodes the body, all under the invocation's deadline
// (so a getter that loops while being encoded is stopped like any other loop).
import type { ReturnType } from '../app/types';

/** §9.4: the user a function runs for. `null` in `user` means no calling user. */
export interface UserInfo {
  id: string;
  type: 'normal' | 'server' | 'system';
  data: Record<string, unknown>;
  custom_data: Record<string, unknown>;
  identities: Array<{ id: string; provider_type: string; data?: Record<string, unknown> }>;
}

/** The HTTP request as the main thread received it; the worker turns it into §6's request object. */
export interface IncomingRequestData {
  method: string;
  /** Path without the query string, e.g. /app/x/endpoint/hello */
  path: string;
  /** Raw query string without '?', as sent (the worker strips `secret` pairs). */
  rawQuery: string;
  /** Raw header pairs in arrival order (node's req.rawHeaders folded into pairs). */
  headers: Array<[string, string]>;
  /** Raw body bytes; undefined when the request had no body. */
  body?: Uint8Array;
  remoteIp: string;
  /** Base URL of this server, e.g. http://127.0.0.1:8080 */
  baseUrl: string;
}

export interface ExecutionIdentity {
  /** The calling user (context.user); null when none. */
  user: UserInfo | null;
  /** Whether the function runs as system (rules bypassed; context.runningAsSystem() true). */
  runAsSystem: boolean;
}

export interface EndpointInvocation extends ExecutionIdentity {
  kind: 'endpoint';
  functionName: string;
  route: string;
  request: IncomingRequestData;
  respondResult: boolean;
  /** Already negotiated from return_type and Accept. */
  returnType: ReturnType;
  logId: string;
}

/** Call a function by name with EJSON-encoded (canonical) arguments, e.g. for the client functions/call API or %function. */
export interface FunctionInvocation extends ExecutionIdentity {
  kind: 'function';
  functionName: string;
  /** Canonical EJSON text of the argument array. */
  argsEJSON: string;
  /** When set, run this source (`exports = ...`) instead of the named function: run_as_user_id_script_source, auth scripts. */
  source?: string;
  request?: IncomingRequestData;
  logId: string;
}

export type Invocation = EndpointInvocation | FunctionInvocation;

export interface InvocationError {
  /** App Services error_code, e.g. FunctionExecutionError, ExecutionTimeLimitExceeded, FunctionNotFound. */
  code: string;
  message: string;
}

export interface InvocationResult {
  /** HTTP status chosen by §7.2 (endpoint) or 200 (function). Meaningless when `error` is set. */
  status: number;
  headers: Array<[string, string]>;
  /**
   * Encoded body (endpoint) or canonical EJSON of the return value (function); null = empty body. Short text bodies
   * stay strings: node:http sends a string body in one write with the headers, bytes take a second (writev).
   */
  body: Uint8Array | string | null;
  /** console output captured during the invocation (last 25 lines, 512 bytes each). */
  logs: string[];
  error?: InvocationError;
}

export interface RuntimeOptions {
  /** Number of worker threads. */
  workers: number;
  /** Per-invocation time limit in ms (App Services: 300000). */
  functionTimeoutMs: number;
  /** Worker heap cap in MB (App Services: 350). */
  maxHeapMb: number;
  /** Directory for Atrium's own state (embedded store, installed dependencies). */
  dataDir: string;
  /** Data source name -> MongoDB connection string, for data sources served by a real cluster. */
  mongodbUris: Record<string, string>;
  /** Maximum concurrent invocations before the server answers 429. */
  maxConcurrency: number;
}
