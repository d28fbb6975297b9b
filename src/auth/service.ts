// AuthService: what the HTTP layer calls (resolve an endpoint's identity, check can_evaluate, serve the client API).
// It wires the platform store, keys, tokens, sessions, providers and users together once at init().
import * as path from 'node:path';
import type { AppDefinition, EndpointDef, FunctionDef } from '../app/types';
import type { PlatformStore } from '../platform';
import { openSqlitePlatformStore } from '../platform';
import type { ExecutionIdentity, IncomingRequestData } from '../runtime/types';
import type { AuthOutcome, ClientApiResponse } from '../http';
import { ClientApi } from './client-api';
import { EndpointIdentityResolver, SYSTEM_IDENTITY } from './endpoint-identity';
import { AuthError } from './errors';
import type { RunFunction } from './functions';
import { ProviderSet } from './providers';
import type { ProviderContext } from './providers';
import { loadAuthKeys } from './secrets';
import { SessionManager } from './sessions';
import type { ThrottleOptions } from './throttle';
import { LoginThrottle } from './throttle';
import { TokenService } from './tokens';
import type { CustomUserDataReader } from './users';
import { dataLayerCustomUserData, UserDirectory } from './users';

export interface AuthOptions {
  /** Atrium's --data-dir; the platform store lives at <dataDir>/platform.sqlite. */
  dataDir: string;
  /** Access token lifetime (default 1800 s, App Services' 30 minutes). */
  accessTokenTtlSec?: number;
  /** Refresh token / session lifetime (default 60 days). */
  refreshTokenTtlSec?: number;
  /** Runs functions and inline sources in the worker pool. */
  runFunction: RunFunction;
  /** Token signing key (at least 32 characters) given by flag; otherwise one is generated and kept in the store. */
  signingKey?: string;
  /** Data source name -> MongoDB URI, for reading custom user data from a real cluster. */
  mongodbUris?: Record<string, string>;
  /** Login throttling limits. */
  throttle?: ThrottleOptions;
  /** Another platform store (e.g. a MongoDB one); default: embedded SQLite under dataDir. */
  store?: PlatformStore;
  /**
   * How long (ms) a Bearer token's session and user, an API key's user and a run_as_user_id user are reused without
   * reading the store (default 1000). Changes made by another instance or the CLI (logout, disable, delete) take
   * effect within this time; 0 reads the store always.
   */
  sessionCacheMs?: number;
  /** Replaces the data-layer reader of custom user data (deployments or tests without the data layer). */
  customUserData?: CustomUserDataReader | null;
}


const SYSTEM_OUTCOME: AuthOutcome = Object.freeze({ ok: true, identity: SYSTEM_IDENTITY });

interface Parts {
  store: PlatformStore;
  providers: ProviderSet;
  resolver: EndpointIdentityResolver;
  clientApi: ClientApi;
  ctx: ProviderContext;
}

function failure(err: unknown): AuthOutcome {
  if (err instanceof AuthError) {
    const out: AuthOutcome = { ok: false, status: err.status, code: err.code, message: err.message };
    if (err.headers.length > 0) out.headers = err.headers;
    return out;
  }
  throw err;
}

export class AuthService {
  private parts: Parts | null = null;
  /** Configuration problems noticed so far (missing signing-key secrets, ...); never contains secret values. */
  readonly warnings: string[] = [];

  constructor(
    private readonly app: AppDefinition,
    private readonly opts: AuthOptions,
  ) {}

  /** Opens the store and loads (or creates, on first start) the signing keys. */
  async init(): Promise<void> {
    if (this.parts) return;
    const store = this.opts.store ?? openSqlitePlatformStore(path.resolve(this.opts.dataDir));
    let keys;
    try {
      keys = await loadAuthKeys(store, this.opts.signingKey);
    } catch (err) {
      if (!this.opts.store) await store.close();
      throw err;
    }
    const tokens = new TokenService(keys, this.app.appId, this.opts.accessTokenTtlSec ?? 1800, this.opts.refreshTokenTtlSec ?? 60 * 24 * 3600);
    const throttle = new LoginThrottle(store, this.opts.throttle);
    const reader = this.opts.customUserData !== undefined ? this.opts.customUserData : dataLayerCustomUserData(this.app, path.resolve(this.opts.dataDir), this.opts.mongodbUris ?? {});
    const users = new UserDirectory(this.app, store, this.opts.runFunction, reader);
    const ctx: ProviderContext = { app: this.app, store, keys, throttle, run: this.opts.runFunction, users };
    const providers = new ProviderSet(ctx);
    const sessions = new SessionManager(this.app, store, tokens, users, this.opts.sessionCacheMs ?? 1000);
    const resolver = new EndpointIdentityResolver(this.app, users, sessions, providers, this.opts.runFunction, this.opts.sessionCacheMs ?? 1000);
    const clientApi = new ClientApi({ app: this.app, store, users, sessions, providers, resolver, run: this.opts.runFunction });
    this.parts = { store, providers, resolver, clientApi, ctx };
    // Import custom JWT keys now so a bad PEM key is reported at start, not at the first login.
    for (const p of Object.values(this.app.authProviders)) {
      if (p.type === 'custom-token' && !p.disabled) await providers.customToken(p.name).prepare();
    }
    this.warnings.push(...providers.problems());
  }

  private get p(): Parts {
    if (!this.parts) throw new Error('AuthService.init() must be called first');
    return this.parts;
  }

  /** §9.1/§9.2; synchronous whenever the resolver is (EndpointIdentityResolver.resolve). */
  resolveEndpointIdentity(fn: FunctionDef, endpoint: EndpointDef, req: IncomingRequestData): AuthOutcome | Promise<AuthOutcome> {
    let identity: ExecutionIdentity | Promise<ExecutionIdentity>;
    try {
      identity = this.p.resolver.resolve(fn, endpoint, req);
    } catch (err) {
      return failure(err);
    }
    if (identity instanceof Promise) return identity.then((found): AuthOutcome => ({ ok: true, identity: found }), failure);
    return identity === SYSTEM_IDENTITY ? SYSTEM_OUTCOME : { ok: true, identity };
  }

  /** §10.3; `args` (the call's arguments) are %%args when given. */
  async checkCanEvaluate(fn: FunctionDef, identity: ExecutionIdentity, req: IncomingRequestData, args?: unknown[]): Promise<AuthOutcome> {
    try {
      await this.p.resolver.checkCanEvaluate(fn, identity, req, args);
      return { ok: true, identity };
    } catch (err) {
      return failure(err);
    }
  }

  /** §9.3; null when the path is not a client API route served here. */
  handleClientApi(method: string, path: string, req: IncomingRequestData): Promise<ClientApiResponse | null> {
    return this.p.clientApi.handle(method, path, req);
  }

  /** The provider context, for operator tools that share this service's store (tests, admin). */
  get context(): ProviderContext {
    return this.p.ctx;
  }

  async close(): Promise<void> {
    if (!this.parts) return;
    const { store } = this.parts;
    this.parts = null;
    if (!this.opts.store) await store.close();
  }
}
