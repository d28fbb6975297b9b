// Runs one invocation inside a worker: finds and compiles the function, builds `context`, the request and
// response objects, calls it, awaits/drains what it returns and encodes the result (all of it under the
// invocation's deadline, which the pool keeps).
import { EJSON } from 'bson';
import type { AppDefinition, FunctionDef } from '../app/types';
import { createServiceClient, RuleDeniedError, type ServiceClientOptions } from '../data';
import { createFunctionConsole, type FunctionConsole } from './console-capture';
import { createFunctionContext, systemUser, type FunctionContext, type SharedContextParts } from './context-object';
import { encodeEJSON } from './encode';
import { endpointResult } from './endpoint-result';
import { ErrorCode, InvocationFailure, Messages, failedResult, thrownMessage } from './errors';
import { HTTPResponse } from './http-response';
import type { InvocationState } from './invocation-state';
import { buildContextRequest, buildEndpointRequest, type BinaryFactory, type ContextRequest } from './request-object';
import type { FunctionFactory, Sandbox } from './sandbox';
import type { EndpointInvocation, ExecutionIdentity, FunctionInvocation, Invocation, UserInfo } from './types';
import type { WorkerResult } from './wire';

const MAX_INLINE_SOURCES = 500;

export interface RunnerDeps {
  app: AppDefinition;
  sandbox: Sandbox;
  shared: SharedContextParts;
  require: (id: string) => unknown;
  makeBinary: BinaryFactory;
  dataDir: string;
  mongodbUris: Record<string, string>;
}

interface Call {
  inv: InvocationState;
  context: FunctionContext;
  console: FunctionConsole;
}

export class FunctionRunner {
  /** Inline sources (auth scripts) by source text; bounded, since callers may send many different ones. */
  private readonly inline = new Map<string, FunctionDef>();
  private readonly inlineFactories = new WeakMap<FunctionDef, FunctionFactory | InvocationFailure>();
  /** route -> legacy webhook (service, name), for context.request.service/action. */
  private readonly legacyWebhooks = new Map<string, { service: string; name: string }>();

  constructor(private readonly deps: RunnerDeps) {
    for (const ep of deps.app.endpoints) if (ep.legacyWebhook) this.legacyWebhooks.set(`${ep.route}\0${ep.functionName}`, ep.legacyWebhook);
  }

  /** Synchronous when the function returns a plain value (no promise to wait for, saving a few allocations). */
  run(inv: InvocationState, invocation: Invocation): WorkerResult | Promise<WorkerResult> {
    try {
      const def = this.definitionOf(invocation);
      const call = this.prepare(inv, invocation);
      const entry = this.entryPoint(def, call);
      if (invocation.kind === 'endpoint') return this.runEndpoint(call, entry, invocation);
      return this.runFunction(call, entry, invocation);
    } catch (err) {
      return failure(inv, err);
    }
  }

  private runEndpoint(call: Call, entry: (...args: unknown[]) => unknown, invocation: EndpointInvocation): WorkerResult | Promise<WorkerResult> {
    const request = buildEndpointRequest(invocation.request, this.deps.makeBinary);
    const response = new HTTPResponse();
    const returned = entry(request, response);
    const build = (value: unknown): WorkerResult =>
      endpointResult({
        respondResult: invocation.respondResult,
        returnType: invocation.returnType,
        response,
        returned: value,
        logs: call.inv.logs.lines(),
      });
    return needsSettling(returned) ? settleThen(call.inv, returned, build) : build(returned);
  }

  private runFunction(call: Call, entry: (...args: unknown[]) => unknown, invocation: FunctionInvocation): WorkerResult | Promise<WorkerResult> {
    const args = parseArgs(invocation.argsEJSON);
    const returned = entry(...args);
    const build = (value: unknown): WorkerResult => ({
      status: 200,
      headers: [],
      body: value === undefined ? null : encodeEJSON(value),
      logs: call.inv.logs.lines(),
    });
    return needsSettling(returned) ? settleThen(call.inv, returned, build) : build(returned);
  }

  private definitionOf(invocation: Invocation): FunctionDef {
    if (invocation.kind === 'function' && invocation.source !== undefined) return this.inlineDefinition(invocation.functionName, invocation.source);
    const def = lookup(this.deps.app, invocation.functionName);
    if (!def) throw new InvocationFailure(ErrorCode.FunctionNotFound, Messages.functionNotFound(invocation.functionName));
    return def;
  }

  private inlineDefinition(label: string, source: string): FunctionDef {
    let def = this.inline.get(source);
    if (!def) {
      if (this.inline.size >= MAX_INLINE_SOURCES) this.inline.clear();
      def = {
        name: label,
        file: `<${label}>`,
        source,
        private: true,
        runAsSystem: false,
        runAsUserId: '',
        runAsUserIdScriptSource: '',
        canEvaluate: {},
        disableArgLogs: false,
      };
      this.inlineFactories.set(def, this.deps.sandbox.compile(def));
      this.inline.set(source, def);
    }
    return def;
  }

  private factoryOf(def: FunctionDef): FunctionFactory {
    const inline = this.inlineFactories.get(def);
    if (inline === undefined) return this.deps.sandbox.factoryFor(def);
    if (inline instanceof InvocationFailure) throw inline;
    return inline;
  }

  private prepare(inv: InvocationState, invocation: Invocation): Call {
    const identity = { user: invocation.user, runAsSystem: invocation.runAsSystem };
    const console = createFunctionConsole((line) => inv.log(line));
    const incoming = invocation.request;
    // Built on first use: most functions never read context.request.
    const build =
      incoming === undefined
        ? undefined
        : invocation.kind === 'endpoint'
          ? () => buildContextRequest(incoming, { webhookUrl: invocation.route, httpMethod: incoming.method, ...this.serviceAndAction(invocation) })
          : () => buildContextRequest(incoming, {});
    const user = invocation.user ?? systemUser();
    if (identity.runAsSystem) return this.makeCall(inv, console, identity, user, build, undefined);
    // Application users: rules may read %%request (the same object context.request gives) and call %function.
    let built: ContextRequest | undefined;
    const request = build && ((): ContextRequest => (built ??= build()));
    let systemCall: Call | undefined;
    const callFunction = (name: string, args: unknown[]): Promise<unknown> => {
      systemCall ??= this.makeCall(inv, console, { user: invocation.user, runAsSystem: true }, user, request, undefined);
      return this.callAsSystem(systemCall, name, args);
    };
    return this.makeCall(inv, console, identity, user, request, { request, callFunction });
  }

  private makeCall(
    inv: InvocationState,
    console: FunctionConsole,
    identity: ExecutionIdentity,
    user: UserInfo,
    request: (() => ContextRequest) | undefined,
    rules: Pick<ServiceClientOptions, 'request' | 'callFunction'> | undefined,
  ): Call {
    const call: Call = { inv, console, context: undefined as unknown as FunctionContext };
    call.context = createFunctionContext(this.deps.shared, {
      identity,
      user,
      request,
      execute: (name, args) => this.execute(call, name, args),
      getService: (name) => {
        if (typeof name !== 'string') throw new this.deps.sandbox.realm.TypeError('context.services.get: the service name must be a string');
        return createServiceClient({
          app: this.deps.app,
          serviceName: name,
          dataDir: this.deps.dataDir,
          mongodbUri: this.deps.mongodbUris[name],
          identity,
          request: rules?.request,
          callFunction: rules?.callFunction,
        });
      },
    });
    return call;
  }

  /** `%function` in rules: the named function (private ones too) in this worker, as system; its result awaited. */
  private async callAsSystem(call: Call, name: string, args: unknown[]): Promise<unknown> {
    if (call.inv.ended) throw new Error(`%function ("${name}") called after the invocation ended`);
    const def = lookup(this.deps.app, name);
    if (!def) throw new Error(Messages.functionNotFound(name));
    return settle(this.entryPoint(def, call)(...args));
  }

  private serviceAndAction(invocation: EndpointInvocation): { service?: string; action: string } {
    const legacy = this.legacyWebhooks.get(`${invocation.route}\0${invocation.functionName}`);
    return legacy ? { service: legacy.service, action: legacy.name } : { action: invocation.functionName };
  }

  /** context.functions.execute: same worker, same context; private functions allowed; arguments by reference. */
  private execute(call: Call, name: unknown, args: unknown[]): unknown {
    if (call.inv.ended) throw new this.deps.sandbox.realm.Error('context.functions.execute called after the invocation ended');
    if (typeof name !== 'string') throw new this.deps.sandbox.realm.TypeError('context.functions.execute: the function name must be a string');
    const def = lookup(this.deps.app, name);
    if (!def) throw new this.deps.sandbox.realm.Error(Messages.functionNotFound(name));
    return this.entryPoint(def, call)(...args);
  }

  private entryPoint(def: FunctionDef, call: Call): (...args: unknown[]) => unknown {
    const factory = this.factoryOf(def);
    const exported = factory(call.context, call.console, this.deps.require);
    if (typeof exported !== 'function') {
      throw new InvocationFailure(
        ErrorCode.FunctionExecutionError,
        `function '${def.name}' does not export a function (expected \`exports = function (...) {...}\`, found ${exported === undefined ? 'nothing' : typeof exported})`,
      );
    }
    return exported as (...args: unknown[]) => unknown;
  }
}

function lookup(app: AppDefinition, name: string): FunctionDef | undefined {
  return Object.prototype.hasOwnProperty.call(app.functions, name) ? app.functions[name] : undefined;
}

function failure(inv: InvocationState, err: unknown): WorkerResult {
  // Which rule refused a data operation goes to the log record only; the client sees App Services' message.
  if (err instanceof RuleDeniedError) inv.log(`rule: ${err.ruleDetail}`);
  if (err instanceof InvocationFailure) return failedResult({ code: err.code, message: err.message }, inv.logs.lines());
  return failedResult({ code: ErrorCode.FunctionExecutionError, message: thrownMessage(err) }, inv.logs.lines());
}

function needsSettling(value: unknown): boolean {
  return isThenable(value) || isCursor(value);
}

async function settleThen(inv: InvocationState, returned: unknown, build: (value: unknown) => WorkerResult): Promise<WorkerResult> {
  try {
    return build(await settle(returned));
  } catch (err) {
    return failure(inv, err);
  }
}

/** Awaits a returned promise and drains a returned cursor (anything with a toArray method). */
async function settle(value: unknown): Promise<unknown> {
  let out = value;
  if (isThenable(out)) out = await out;
  if (isCursor(out)) {
    out = (out as { toArray(): unknown }).toArray();
    if (isThenable(out)) out = await out;
  }
  return out;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function isCursor(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { toArray?: unknown }).toArray === 'function';
}

function parseArgs(argsEJSON: string): unknown[] {
  let args: unknown;
  try {
    args = EJSON.parse(argsEJSON, { relaxed: true });
  } catch (err) {
    throw new InvocationFailure(ErrorCode.InvalidParameter, `invalid function arguments: ${thrownMessage(err)}`);
  }
  if (!Array.isArray(args)) throw new InvocationFailure(ErrorCode.InvalidParameter, 'invalid function arguments: expected an array');
  return args;
}


