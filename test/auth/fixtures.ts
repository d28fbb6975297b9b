// Test fixtures for auth: an in-code AppDefinition, request builders, and a function runner that executes the app's
// real function sources in a node:vm context. The runner stands in for the worker pool (src/runtime) only until
// that lands; it implements just enough (exports = ..., EJSON arguments/results, thrown errors) for auth's calls.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { BSON, EJSON } from 'bson';
import type { AppDefinition, AuthProviderDef, EndpointDef, FunctionDef } from '../../src/app/types';
import type { FunctionInvocation, IncomingRequestData, InvocationResult } from '../../src/runtime/types';
import { AuthService } from '../../src/auth';
import type { AuthOptions } from '../../src/auth';

export const APP_ID = 'authtest-abcde';
export const JWT_SECRET = 'a-very-long-hs256-signing-secret-for-tests-0123456789';

const made: string[] = [];
process.on('exit', () => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** A temporary directory, removed when the test process exits. */
export function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-auth-'));
  made.push(d);
  return d;
}

export function fn(name: string, source: string, extra: Partial<FunctionDef> = {}): FunctionDef {
  return {
    name,
    file: `functions/${name}.js`,
    source,
    private: false,
    runAsSystem: false,
    runAsUserId: '',
    runAsUserIdScriptSource: '',
    canEvaluate: {},
    disableArgLogs: false,
    ...extra,
  };
}

export function provider(name: string, config: Record<string, unknown> = {}, extra: Partial<AuthProviderDef> = {}): AuthProviderDef {
  return { name, type: name, disabled: false, config, secretConfig: {}, metadataFields: [], ...extra };
}

export function endpoint(extra: Partial<EndpointDef> = {}): EndpointDef {
  return {
    route: '/hello',
    httpMethod: 'GET',
    functionName: 'hello',
    validationMethod: 'NO_VALIDATION',
    respondResult: true,
    fetchCustomUserData: false,
    createUserOnAuth: false,
    disabled: false,
    returnType: 'JSON',
    definedIn: 'http_endpoints/config.json[0]',
    ...extra,
  };
}

export function makeApp(over: Partial<AppDefinition> = {}): AppDefinition {
  const functions: Record<string, FunctionDef> = {
    hello: fn('hello', 'exports = function () { return { user: context.user }; };'),
    sum: fn('sum', 'exports = function (a, b) { return a + b; };'),
    secretOnly: fn('secretOnly', 'exports = function () { return 1; };', { private: true }),
    confirmOk: fn('confirmOk', 'exports = function ({ token, tokenId, username }) { return { status: "success" }; };'),
    confirmPending: fn('confirmPending', 'exports = function ({ token, tokenId, username }) { return { status: "pending" }; };'),
    confirmFail: fn('confirmFail', 'exports = function () { return { status: "fail" }; };'),
    resetOk: fn('resetOk', 'exports = function ({ username, password }, answer) { return { status: answer === "blue" ? "success" : "fail" }; };'),
    authFn: fn(
      'authFn',
      'exports = function (payload) { if (payload.pin !== "1234") throw new Error("wrong pin"); return payload.withName ? { id: payload.user, name: "Named " + payload.user } : payload.user; };',
    ),
    isEven: fn('isEven', 'exports = function (n) { return n % 2 === 0; };'),
  };
  return {
    dir: '/nonexistent',
    appId: APP_ID,
    name: 'authtest',
    internalId: '5f0000000000000000000001',
    groupId: '',
    configVersion: 20210101,
    deployment: { model: 'GLOBAL', providerRegion: 'aws-us-east-1', location: 'US-VA' },
    environment: { tag: 'production', values: { region: 'eu' } },
    values: { allowedIps: ['127.0.0.1', '10.0.0.9'] },
    secrets: { jwtKey: JWT_SECRET },
    functions,
    endpoints: [endpoint()],
    dataSources: [],
    authProviders: {
      'local-userpass': provider('local-userpass', { autoConfirm: true }),
      'api-key': provider('api-key'),
      'anon-user': provider('anon-user'),
      'custom-token': provider('custom-token', { signingAlgorithm: 'HS256', audience: [APP_ID] }, {
        secretConfig: { signingKeys: ['jwtKey'] },
        metadataFields: [
          { required: true, name: 'email', field_name: 'email' },
          { required: false, name: 'profile.display\\.name', field_name: 'displayName' },
        ],
      }),
      'custom-function': provider('custom-function', { authFunctionName: 'authFn' }),
    },
    customUserData: null,
    packageJsonPath: null,
    allowedRequestOrigins: [],
    problems: [],
    ...over,
  } as AppDefinition;
}

/** Runs the app's function sources (or an inline source) in a fresh vm context per call. */
export function vmRunner(app: AppDefinition, calls: FunctionInvocation[] = []): (inv: FunctionInvocation) => Promise<InvocationResult> {
  return async (inv) => {
    calls.push(inv);
    const source = inv.source ?? app.functions[inv.functionName]?.source;
    if (source === undefined) return { status: 404, headers: [], body: null, logs: [], error: { code: 'FunctionNotFound', message: `function not found: '${inv.functionName}'` } };
    try {
      const sandbox: Record<string, unknown> = {
        exports: undefined,
        context: { user: inv.user, runningAsSystem: () => inv.runAsSystem },
        BSON,
        EJSON,
      };
      vm.createContext(sandbox);
      vm.runInContext(source, sandbox);
      const f = sandbox.exports as (...a: unknown[]) => unknown;
      const args = EJSON.parse(inv.argsEJSON, { relaxed: true }) as unknown[];
      const value = await f(...args);
      const text = value === undefined ? 'null' : EJSON.stringify(value, { relaxed: false });
      return { status: 200, headers: [], body: new TextEncoder().encode(text), logs: [] };
    } catch (err) {
      return { status: 400, headers: [], body: null, logs: [], error: { code: 'FunctionExecutionError', message: err instanceof Error ? err.message : String(err) } };
    }
  };
}

export interface TestAuth {
  app: AppDefinition;
  auth: AuthService;
  dataDir: string;
  calls: FunctionInvocation[];
}

export async function startAuth(app: AppDefinition = makeApp(), opts: Partial<AuthOptions> = {}): Promise<TestAuth> {
  const dataDir = opts.dataDir ?? tempDir();
  const calls: FunctionInvocation[] = [];
  const auth = new AuthService(app, { dataDir, runFunction: vmRunner(app, calls), customUserData: null, ...opts });
  await auth.init();
  return { app, auth, dataDir, calls };
}

export function req(init: { method?: string; path?: string; headers?: Array<[string, string]>; body?: unknown; ip?: string; query?: string } = {}): IncomingRequestData {
  const body = init.body === undefined ? undefined : new TextEncoder().encode(typeof init.body === 'string' ? init.body : JSON.stringify(init.body));
  return {
    method: init.method ?? 'GET',
    path: init.path ?? `/app/${APP_ID}/endpoint/hello`,
    rawQuery: init.query ?? '',
    headers: init.headers ?? [],
    body,
    remoteIp: init.ip ?? '127.0.0.1',
    baseUrl: 'http://127.0.0.1:9999',
  };
}

export interface ApiResult {
  status: number;
  headers: Array<[string, string]>;
  body: any;
}

/** Calls the client API like the HTTP layer would (JSON body, raw body decoded). */
export async function api(auth: AuthService, method: string, sub: string, init: { body?: unknown; token?: string; headers?: Array<[string, string]>; ip?: string; query?: string } = {}): Promise<ApiResult> {
  const p = sub.startsWith('/auth/') && !sub.startsWith('/auth/providers/') ? `/api/client/v2.0${sub}` : `/api/client/v2.0/app/${APP_ID}${sub}`;
  const headers: Array<[string, string]> = [...(init.headers ?? [])];
  if (init.token) headers.push(['Authorization', `Bearer ${init.token}`]);
  const r = await auth.handleClientApi(method, p, req({ method, path: p, headers, body: init.body, ip: init.ip, query: init.query }));
  if (!r) return { status: 0, headers: [], body: undefined };
  const body = r.rawBody ? JSON.parse(Buffer.from(r.rawBody).toString('utf8')) : r.body;
  return { status: r.status, headers: r.headers, body };
}

export async function loginUserpass(auth: AuthService, email: string, password: string): Promise<ApiResult> {
  return api(auth, 'POST', '/auth/providers/local-userpass/login', { body: { username: email, password } });
}
