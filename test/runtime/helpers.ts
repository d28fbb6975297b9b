// Test helpers for the runtime: a hand-built AppDefinition, invocation builders and a pool lifecycle.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AppDefinition, FunctionDef, ReturnType } from '../../src/app/types';
import { FunctionPool } from '../../src/runtime';
import type { EndpointInvocation, FunctionInvocation, IncomingRequestData, InvocationResult, UserInfo } from '../../src/runtime';
import type { PoolOptions } from '../../src/runtime';

export type FunctionSpec = string | (Partial<FunctionDef> & { source: string });

export function makeApp(functions: Record<string, FunctionSpec>, extra: Partial<AppDefinition> = {}): AppDefinition {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-runtime-'));
  const defs: Record<string, FunctionDef> = {};
  for (const [name, spec] of Object.entries(functions)) {
    const s = typeof spec === 'string' ? { source: spec } : spec;
    defs[name] = {
      name,
      file: `functions/${name}.js`,
      private: false,
      runAsSystem: true,
      runAsUserId: '',
      runAsUserIdScriptSource: '',
      canEvaluate: {},
      disableArgLogs: false,
      ...s,
    };
  }
  return {
    dir,
    appId: 'runtime-test-abcde',
    name: 'runtime-test',
    internalId: '5f1d7a3b9c8e4a0012345678',
    groupId: '5f1d7a3b9c8e4a0087654321',
    configVersion: 20210101,
    deployment: { model: 'LOCAL', providerRegion: 'aws-eu-west-1', location: 'IE' },
    environment: { tag: 'production', values: { dbName: 'prod-db', nested: { flag: true } } },
    values: { greeting: 'hello', config: { limit: 5, tags: ['a', 'b'] } },
    secrets: {},
    functions: defs,
    endpoints: [],
    dataSources: [],
    authProviders: {},
    customUserData: null,
    packageJsonPath: null,
    allowedRequestOrigins: [],
    problems: [],
    ...extra,
  };
}

export interface RequestSpec {
  method?: string;
  rawQuery?: string;
  headers?: Array<[string, string]>;
  body?: Uint8Array | string;
  remoteIp?: string;
}

export function request(spec: RequestSpec = {}): IncomingRequestData {
  return {
    method: spec.method ?? 'GET',
    path: '/app/runtime-test-abcde/endpoint/test',
    rawQuery: spec.rawQuery ?? '',
    headers: spec.headers ?? [],
    body: typeof spec.body === 'string' ? new TextEncoder().encode(spec.body) : spec.body,
    remoteIp: spec.remoteIp ?? '203.0.113.7',
    baseUrl: 'http://127.0.0.1:8080',
  };
}

export interface EndpointSpec extends RequestSpec {
  respondResult?: boolean;
  returnType?: ReturnType;
  route?: string;
  user?: UserInfo | null;
  runAsSystem?: boolean;
}

export function endpoint(functionName: string, spec: EndpointSpec = {}): EndpointInvocation {
  return {
    kind: 'endpoint',
    functionName,
    route: spec.route ?? '/test',
    request: request(spec),
    respondResult: spec.respondResult ?? true,
    returnType: spec.returnType ?? 'JSON',
    logId: 'log-1',
    user: spec.user ?? null,
    runAsSystem: spec.runAsSystem ?? true,
  };
}

export function call(functionName: string, argsEJSON = '[]', extra: Partial<FunctionInvocation> = {}): FunctionInvocation {
  return { kind: 'function', functionName, argsEJSON, logId: 'log-2', user: null, runAsSystem: true, ...extra };
}

export function bodyText(result: InvocationResult): string {
  return result.body === null ? '' : Buffer.from(result.body).toString('utf8');
}

export function bodyJSON(result: InvocationResult): unknown {
  if (result.error) throw new Error(`invocation failed: ${result.error.code}: ${result.error.message}`);
  return JSON.parse(bodyText(result));
}

export function header(result: InvocationResult, name: string): string[] {
  return result.headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
}

export async function startPool(app: AppDefinition, opts: Partial<PoolOptions> = {}): Promise<FunctionPool> {
  const output: string[] = [];
  const pool = new FunctionPool(app, {
    workers: 2,
    functionTimeoutMs: 1000,
    maxHeapMb: 96,
    dataDir: app.dir,
    mongodbUris: {},
    maxConcurrency: 1000,
    dependenciesDir: null,
    onWorkerOutput: (line) => output.push(line),
    ...opts,
  });
  await pool.start();
  return pool;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits (up to 10 s) until `check` holds, polling every 10 ms. */
export async function waitUntil(check: () => boolean, what: string): Promise<void> {
  const until = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
}
