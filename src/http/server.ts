// The HTTP server: one request pipeline (DESIGN principle 2)
//   match route -> resolve user (auth) -> validate request -> can_evaluate -> run function -> build response -> log.
// The main thread never runs user code; functions run in the worker pool.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppDefinition, EndpointDef, FunctionDef } from '../app';
import type { ExecutionIdentity, InvocationResult, Invocation, IncomingRequestData } from '../runtime';
import { ServiceError, type LogRecord, type LogStore } from '../platform';
import { errorBody, statusForInvocationError } from './errors';
import type { AuthOutcome, EndpointAuth } from './identity';
import { SystemOnlyAuth } from './identity';
import { negotiateReturnType } from './negotiate';
import { firstHeader, headerPairs } from './request-data';
import { RouteTable } from './routes';
import { validateRequest } from './validation';

export interface FunctionInvoker {
  invoke(inv: Invocation): Promise<InvocationResult>;
}

export interface ServerOptions {
  app: AppDefinition;
  invoker: FunctionInvoker;
  logs: LogStore;
  auth?: EndpointAuth;
  host?: string;
  port?: number;
  /** Largest request body accepted (App Services: 18 MB). */
  maxBodyBytes?: number;
  /** Requests handled at once before answering 429 (App Services: 10000). */
  maxConcurrency?: number;
}

export interface AtriumServer {
  /** Base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  port: number;
  /** Stops accepting connections and resolves when every in-flight request has been answered. */
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 18 * 1024 * 1024;
export const DEFAULT_MAX_CONCURRENCY = 10000;
const LOGS_PREFIX = '/_atrium/logs/';
const CLIENT_API_PREFIX = '/api/client/v2.0/';

interface Reply {
  status: number;
  headers: Array<[string, string]>;
  body: Uint8Array | string | null;
}

/** One request on its way through the pipeline. */
interface Exchange {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  record: LogRecord;
  /** performance.now() when it arrived. */
  started: number;
}

/** Whether the request declares a body. Reads rawHeaders: node builds `req.headers` lazily, and only for this. */
function hasBody(req: http.IncomingMessage): boolean {
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if ((name.length === 14 && name.toLowerCase() === 'content-length') || (name.length === 17 && name.toLowerCase() === 'transfer-encoding')) return true;
  }
  return false;
}

function hasEntries(obj: object): boolean {
  for (const _ in obj) return true;
  return false;
}

/** The `password` credential header is consumed by auth and never shown to functions (§6.1 recommendation). */
function withoutPasswordHeader(req: IncomingRequestData): IncomingRequestData {
  if (!req.headers.some(([k]) => k.length === 8 && k.toLowerCase() === 'password')) return req;
  return { ...req, headers: req.headers.filter(([k]) => !(k.length === 8 && k.toLowerCase() === 'password')) };
}

export async function startServer(opts: ServerOptions): Promise<AtriumServer> {
  const { app, invoker, logs } = opts;
  const auth = opts.auth ?? new SystemOnlyAuth();
  const routes = new RouteTable(app.endpoints);
  const endpointPrefix = `/app/${app.appId}/endpoint`;
  const endpointPrefixSlash = `${endpointPrefix}/`;
  const legacyWebhookPrefix = `${CLIENT_API_PREFIX}app/${app.appId}/service/`;
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxConcurrency = opts.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY;
  let baseUrl = '';
  let active = 0;
  let closing = false;
  let drained: (() => void) | null = null;

  // The pipeline stays synchronous until it must wait (a body to read, a user to look up, the function): an async
  // function per step costs promises and microtask turns on every request, and the HTTP thread is the bottleneck.
  const server = http.createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
    active++;
    let pending: void | Promise<void>;
    try {
      pending = handle(req, res);
    } catch (err) {
      return internalError(req, res, err);
    }
    if (pending === undefined) done();
    else pending.then(done, (err: unknown) => internalError(req, res, err));
  });
  /** Counted until the pipeline has answered (cheaper than a 'close' listener per response). */
  function done(): void {
    active--;
    if (closing && active === 0 && drained) drained();
  }
  function internalError(req: http.IncomingMessage, res: http.ServerResponse, err: unknown): void {
    done();
    // A bug of ours, never of the user's function: answer 500 and keep serving.
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`atrium: internal error while handling ${req.method} ${req.url}: ${msg}\n`);
    if (!res.headersSent) sendError(res, 500, 'InternalServerError', 'internal server error', undefined);
    else res.destroy();
  }
  server.headersTimeout = 30_000;
  server.requestTimeout = 300_000;
  server.keepAliveTimeout = 5_000;

  // Malformed requests and oversized header blocks get App Services-style JSON errors too (policies: HTTP edges).
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const text = tooLarge ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request';
    const body = errorBody(tooLarge ? 'ReadSizeLimitExceeded' : 'BadRequest', tooLarge ? 'request headers too large' : `malformed request: ${err.code ?? 'bad request'}`);
    socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });

  function linkFor(id: string): string {
    return `${baseUrl}${LOGS_PREFIX}${id}`;
  }

  function sendError(res: http.ServerResponse, status: number, code: string, message: string, logId: string | undefined, extra: Array<[string, string]> = []): void {
    const body = errorBody(code, message, logId ? linkFor(logId) : undefined);
    const headers: Array<[string, string]> = [['Content-Type', 'application/json'], ...extra];
    writeReply(res, { status, headers, body }, false);
  }

  function writeReply(res: http.ServerResponse, reply: Reply, headOnly: boolean): void {
    const flat: string[] = [];
    for (const [k, v] of reply.headers) flat.push(k, v);
    const len = reply.body === null ? 0 : typeof reply.body === 'string' ? Buffer.byteLength(reply.body) : reply.body.byteLength;
    if (reply.status !== 204 && reply.status !== 304) flat.push('Content-Length', String(len));
    if (closing) flat.push('Connection', 'close');
    res.writeHead(reply.status, flat);
    if (headOnly || reply.body === null || reply.status === 204 || reply.status === 304) res.end();
    else res.end(reply.body);
  }

  function readBody(req: http.IncomingMessage): Promise<Uint8Array | undefined> {
    return hasBody(req) ? readDeclaredBody(req) : Promise.resolve(undefined);
  }

  /** The body of a request that declares one (hasBody). */
  function readDeclaredBody(req: http.IncomingMessage): Promise<Uint8Array | undefined> {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > maxBody) {
      return Promise.reject(new ServiceError(413, 'ReadSizeLimitExceeded', `request body of ${declared} bytes exceeds the limit of ${maxBody} bytes`, [['Connection', 'close']]));
    }
    // Plain stream events: an async iterator per request costs several times more on small bodies.
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;
      // The error is only built when it is the answer: 'close' comes after every request, and an Error captures a
      // stack trace (it showed in profiles of the echo benchmark).
      const fail = (status: number, code: string, message: string, headers?: Array<[string, string]>): void => {
        if (settled) return;
        settled = true;
        reject(new ServiceError(status, code, message, headers));
      };
      req.on('data', (chunk: Buffer) => {
        if (settled) return; // over the limit: the rest is read and dropped while the 413 goes out
        size += chunk.length;
        if (size > maxBody) return fail(413, 'ReadSizeLimitExceeded', `request body exceeds the limit of ${maxBody} bytes`, [['Connection', 'close']]);
        chunks.push(chunk);
      });
      req.on('end', () => {
        if (settled) return;
        settled = true;
        if (size === 0) return resolve(undefined);
        const whole = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
        resolve(new Uint8Array(whole.buffer, whole.byteOffset, whole.byteLength));
      });
      req.on('error', () => fail(400, 'BadRequest', 'the request body could not be read (the client went away)'));
      req.on('close', () => fail(400, 'BadRequest', 'the request ended before its body was complete'));
    });
  }

  function requestData(req: http.IncomingMessage, path: string, rawQuery: string, body: Uint8Array | undefined): IncomingRequestData {
    return {
      method: req.method ?? 'GET',
      path,
      rawQuery,
      headers: headerPairs(req.rawHeaders),
      body,
      remoteIp: req.socket.remoteAddress ?? '',
      baseUrl,
    };
  }

  function finish(x: Exchange, status: number, code?: string, message?: string): void {
    const record = x.record;
    record.status = status;
    record.ms = Math.round((performance.now() - x.started) * 100) / 100;
    if (code) {
      record.error_code = code;
      record.error = message;
    }
    logs.add(record);
  }

  function fail(x: Exchange, err: ServiceError): void {
    sendError(x.res, err.status, err.code, err.message, x.record.id, err.headers);
    finish(x, err.status, err.code, err.message);
  }

  function handle(req: http.IncomingMessage, res: http.ServerResponse): void | Promise<void> {
    const started = performance.now();
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const rawQuery = q === -1 ? '' : rawUrl.slice(q + 1);
    const method = req.method ?? 'GET';
    const record: LogRecord = { id: logs.newId(), at: Date.now(), type: 'http', method, route: rawPath, status: 0, ms: 0, remote_ip: req.socket.remoteAddress };
    const x: Exchange = { req, res, record, started };

    if (closing) {
      return fail(x, new ServiceError(503, 'ServiceUnavailable', 'the server is shutting down', [['Connection', 'close']]));
    }
    if (active > maxConcurrency) {
      return fail(x, new ServiceError(429, 'TooManyRequests', `too many concurrent requests (limit ${maxConcurrency})`, [['Retry-After', '1']]));
    }

    let path = rawPath;
    if (rawPath.includes('%')) {
      try {
        path = decodeURI(rawPath);
      } catch {
        return fail(x, new ServiceError(400, 'BadRequest', 'malformed percent-encoding in the request path'));
      }
    }

    if (path.startsWith(endpointPrefixSlash) || path === endpointPrefix) {
      record.type = 'endpoint';
      const route = path.slice(endpointPrefix.length) || '/';
      record.route = route;
      return handleEndpoint(x, route, path, rawQuery);
    }
    if (path.startsWith(legacyWebhookPrefix)) {
      // Old incoming-webhook URLs keep working: /api/client/v2.0/app/<id>/service/<svc>/incoming_webhook/<name>
      // is the converted endpoint /<svc>/<name> (§3.1, §14.2).
      const m = /^([^/]+)\/incoming_webhook\/([^/]+)$/.exec(path.slice(legacyWebhookPrefix.length));
      if (m) {
        record.type = 'endpoint';
        const route = `/${m[1]}/${m[2]}`;
        record.route = route;
        return handleEndpoint(x, route, path, rawQuery);
      }
    }
    if (path.startsWith(CLIENT_API_PREFIX)) return handleClientApi(x, path, rawQuery);
    return handleOther(x, path);
  }

  async function handleClientApi(x: Exchange, path: string, rawQuery: string): Promise<void> {
    const { req, res, record } = x;
    record.type = 'auth';
    let body: Uint8Array | undefined;
    try {
      body = await readBody(req);
    } catch (err) {
      return fail(x, err as ServiceError);
    }
    const method = record.method;
    const reply = await auth.handleClientApi(method, path, requestData(req, path, rawQuery, body));
    if (!reply) return handleOther(x, path);
    const bytes = reply.rawBody ?? (reply.body === undefined || reply.body === null ? null : JSON.stringify(reply.body));
    const headers = reply.headers.some(([k]) => k.toLowerCase() === 'content-type') || !bytes ? reply.headers : [['Content-Type', 'application/json'] as [string, string], ...reply.headers];
    writeReply(res, { status: reply.status, headers, body: bytes }, method === 'HEAD');
    const err = reply.status >= 400 && reply.body && typeof reply.body === 'object' ? (reply.body as { error_code?: string; error?: string }) : undefined;
    finish(x, reply.status, err?.error_code, err?.error);
  }

  /** Atrium's own routes (log records, health) and the 404s. */
  function handleOther(x: Exchange, path: string): void {
    const method = x.record.method;
    if (path.startsWith(LOGS_PREFIX) && method === 'GET') {
      const rec = logs.get(path.slice(LOGS_PREFIX.length));
      if (!rec) return fail(x, new ServiceError(404, 'LogNotFound', 'no log record with that id (records are kept in memory for the most recent requests)'));
      writeReply(x.res, { status: 200, headers: [['Content-Type', 'application/json']], body: JSON.stringify(rec) }, false);
      return;
    }
    if (path === '/_atrium/health') {
      writeReply(x.res, { status: 200, headers: [['Content-Type', 'application/json']], body: '{"status":"ok"}' }, method === 'HEAD');
      return;
    }
    if (path.startsWith('/app/')) {
      const other = path.split('/')[2];
      if (other !== app.appId) return fail(x, new ServiceError(404, 'AppNotFound', `app not found: '${other}' (this server serves '${app.appId}')`));
    }
    return fail(x, new ServiceError(404, 'NotFound', `no resource at ${path}`));
  }

  function handleEndpoint(x: Exchange, route: string, path: string, rawQuery: string): void | Promise<void> {
    const { req, record } = x;
    const method = record.method;
    const match = routes.match(route, method);
    if (match.kind !== 'found') {
      // Drain any body so the connection can be reused.
      req.resume();
      const msg = match.kind === 'no-route' ? `endpoint not found: ${route}` : `endpoint ${route} does not accept ${method} (it accepts ${match.allowed.join(', ')})`;
      return fail(x, new ServiceError(404, 'EndpointNotFound', msg));
    }
    const ep: EndpointDef = match.endpoint;
    record.function = ep.functionName;
    if (ep.disabled) {
      req.resume();
      return fail(x, new ServiceError(404, 'EndpointNotFound', `endpoint ${route} is disabled`));
    }
    const fn = app.functions[ep.functionName];
    if (!fn) {
      req.resume();
      return fail(x, new ServiceError(404, 'FunctionNotFound', `function not found: '${ep.functionName}'`));
    }
    if (!hasBody(req)) return resolveIdentity(x, ep, fn, route, requestData(req, path, rawQuery, undefined));
    return readDeclaredBody(req).then(
      (body) => resolveIdentity(x, ep, fn, route, requestData(req, path, rawQuery, body)),
      (err: ServiceError) => fail(x, err),
    );
  }

  function resolveIdentity(x: Exchange, ep: EndpointDef, fn: FunctionDef, route: string, reqData: IncomingRequestData): void | Promise<void> {
    const who = auth.resolveEndpointIdentity(fn, ep, reqData);
    if (who instanceof Promise) return who.then((outcome) => checkRequest(x, ep, fn, route, reqData, outcome));
    return checkRequest(x, ep, fn, route, reqData, who);
  }

  function checkRequest(x: Exchange, ep: EndpointDef, fn: FunctionDef, route: string, reqData: IncomingRequestData, who: AuthOutcome): void | Promise<void> {
    if (!who.ok) return fail(x, new ServiceError(who.status, who.code, who.message, who.headers));
    x.record.user_id = who.identity.user?.id || undefined;
    try {
      validateRequest(ep, reqData, app.secrets);
    } catch (err) {
      return fail(x, err as ServiceError);
    }
    if (hasEntries(fn.canEvaluate)) {
      return auth.checkCanEvaluate(fn, who.identity, reqData).then((allowed) => {
        if (!allowed.ok) return fail(x, new ServiceError(allowed.status, allowed.code, allowed.message, allowed.headers));
        return runEndpoint(x, ep, route, reqData, who.identity);
      });
    }
    return runEndpoint(x, ep, route, reqData, who.identity);
  }

  function runEndpoint(x: Exchange, ep: EndpointDef, route: string, reqData: IncomingRequestData, identity: ExecutionIdentity): Promise<void> {
    const invocation: Invocation = {
      kind: 'endpoint',
      functionName: ep.functionName,
      route,
      request: withoutPasswordHeader(reqData),
      respondResult: ep.respondResult,
      returnType: negotiateReturnType(ep.returnType, firstHeader(reqData.headers, 'accept')),
      logId: x.record.id,
      user: identity.user,
      runAsSystem: identity.runAsSystem,
    };
    return invoker.invoke(invocation).then((result) => {
      if (result.logs.length > 0) x.record.logs = result.logs;
      if (result.error) {
        return fail(x, new ServiceError(statusForInvocationError(result.error.code), result.error.code, result.error.message));
      }
      writeReply(x.res, { status: result.status, headers: result.headers, body: result.body }, x.record.method === 'HEAD');
      finish(x, result.status);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8080, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  baseUrl = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${addr.port}`;

  return {
    url: baseUrl,
    port: addr.port,
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        const done = new Promise<void>((r) => {
          if (active === 0) r();
          else drained = r;
        });
        server.close(() => undefined);
        server.closeIdleConnections();
        void done.then(() => {
          logs.flush();
          resolve();
        });
      }),
  };
}
