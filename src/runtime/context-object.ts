// §11.1: the `context` object of one invocation. The parts that are the same for every invocation (app,
// environment, values, http) are built once per worker and frozen; the rest is fresh per invocation.
import type { AppDefinition } from '../app/types';
import { freezeData } from './freeze';
import type { ContextRequest } from './request-object';
import type { ExecutionIdentity, UserInfo } from './types';

export interface SharedContextParts {
  app: Readonly<Record<string, unknown>>;
  environment: Readonly<{ tag: string; values: Record<string, unknown> }>;
  values: Readonly<{ get(name: unknown): unknown }>;
  http: unknown;
}

export function sharedContextParts(app: AppDefinition, deployedAt: string, http: unknown): SharedContextParts {
  const valueTexts = new Map<string, string>();
  for (const [name, value] of Object.entries(app.values)) {
    if (typeof value === 'object' && value !== null) valueTexts.set(name, JSON.stringify(value));
  }
  const values = Object.freeze({
    get(name: unknown): unknown {
      if (typeof name !== 'string' || !Object.prototype.hasOwnProperty.call(app.values, name)) return undefined;
      // Objects are copied per call: a function that changes the value it got changes nobody else's.
      const text = valueTexts.get(name);
      return text === undefined ? app.values[name] : JSON.parse(text);
    },
  });
  return {
    app: freezeData({
      id: app.internalId,
      clientAppId: app.appId,
      name: app.name,
      projectId: app.groupId,
      deployment: { model: app.deployment.model || 'GLOBAL', providerRegion: app.deployment.providerRegion },
      lastDeployed: deployedAt,
      hostingUri: '',
    }),
    environment: freezeData(JSON.parse(JSON.stringify({ tag: app.environment.tag, values: app.environment.values })) as { tag: string; values: Record<string, unknown> }),
    values,
    http,
  };
}

/** §9.4 system user, used as context.user when a function runs with no calling user. */
export function systemUser(): UserInfo {
  return { id: '', type: 'system', data: {}, custom_data: {}, identities: [] };
}

export interface FunctionContext {
  app: SharedContextParts['app'];
  environment: SharedContextParts['environment'];
  values: SharedContextParts['values'];
  user: UserInfo;
  request: ContextRequest | Record<string, never>;
  runningAsSystem(): boolean;
  functions: { execute(name: unknown, ...args: unknown[]): unknown };
  services: { get(name: unknown): unknown };
  http: unknown;
}

export interface InvocationContextParts {
  identity: ExecutionIdentity;
  user: UserInfo;
  /** Builds context.request (called at most once, on first read); undefined when there is no request. */
  request: (() => ContextRequest) | undefined;
  execute(name: unknown, args: unknown[]): unknown;
  getService(name: unknown): unknown;
}

/**
 * One invocation's `context`. A class, so that every context has the same shape (V8 keeps property access
 * fast); `request` is a prototype getter that builds context.request on first read, as most functions never do.
 */
class InvocationContext {
  app: SharedContextParts['app'];
  environment: SharedContextParts['environment'];
  values: SharedContextParts['values'];
  user: UserInfo;
  runningAsSystem: () => boolean;
  functions: { execute(name: unknown, ...args: unknown[]): unknown };
  services: { get(name: unknown): unknown };
  http: unknown;
  #buildRequest: (() => ContextRequest) | undefined;
  #request: ContextRequest | Record<string, never> | undefined;

  constructor(shared: SharedContextParts, parts: InvocationContextParts) {
    const runAsSystem = parts.identity.runAsSystem;
    this.app = shared.app;
    this.environment = shared.environment;
    this.values = shared.values;
    this.user = parts.user;
    this.runningAsSystem = () => runAsSystem;
    this.functions = { execute: (name: unknown, ...args: unknown[]) => parts.execute(name, args) };
    this.services = { get: (name: unknown) => parts.getService(name) };
    this.http = shared.http;
    this.#buildRequest = parts.request;
  }

  get request(): ContextRequest | Record<string, never> {
    if (this.#request === undefined) {
      this.#request = this.#buildRequest ? this.#buildRequest() : {};
      this.#buildRequest = undefined;
    }
    return this.#request;
  }

  set request(value: ContextRequest | Record<string, never>) {
    this.#request = value;
  }
}
Object.freeze(InvocationContext);
Object.freeze(InvocationContext.prototype);

export function createFunctionContext(shared: SharedContextParts, parts: InvocationContextParts): FunctionContext {
  return new InvocationContext(shared, parts);
}
