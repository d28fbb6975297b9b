// §9.1/§9.2: who an endpoint's function runs as, and §10.3: the function's can_evaluate.
//   run_as_system -> system; run_as_user_id -> that user; run_as_user_id_script_source -> what the script returns;
//   otherwise application auth: Bearer access token (no fallback when invalid), then email+password, apiKey/api-key,
//   or jwtTokenString, with create_user_on_auth for identities that have no user yet.
import { Binary } from 'bson';
import type { AppDefinition, EndpointDef, FunctionDef } from '../app/types';
import { evaluateExpression, ExpressionError } from '../data/rules';
import type { ExecutionIdentity, IncomingRequestData, UserInfo } from '../runtime/types';
import { AuthError, noUserForEndpoint } from './errors';
import type { RunFunction } from './functions';
import { callFunction } from './functions';
import type { ProviderSet } from './providers';
import { enabledProviderOfType } from './providers';
import { Recent } from './recent';
import { endpointCredentials, headerObject, queryObject, requestExpansion, type EndpointCredentials } from './request';
import type { SessionManager } from './sessions';
import type { LoadedUser, UserDirectory, VerifiedIdentity } from './users';

export const SYSTEM_IDENTITY: ExecutionIdentity = Object.freeze({ user: null, runAsSystem: true });

export class EndpointIdentityResolver {
  /**
   * Users of API keys checked within the last `recentMs`, by the key's stored digest (never the key itself): checking
   * one costs an HMAC, a key lookup and a user load in the store, on the HTTP thread. And the users of run_as_user_id
   * functions, by id. A change made by this instance (key disabled or deleted, user deleted) forgets them at once;
   * one made by another instance or the CLI counts within `recentMs`, as for sessions.
   */
  private readonly recentKeys: Recent<LoadedUser>;
  private readonly recentUsers: Recent<LoadedUser>;

  constructor(
    private readonly app: AppDefinition,
    private readonly users: UserDirectory,
    private readonly sessions: SessionManager,
    private readonly providers: ProviderSet,
    private readonly run: RunFunction,
    /** How long a checked key or user is reused (AuthOptions.sessionCacheMs; 0 = always read the store). */
    recentMs = 1000,
  ) {
    this.recentKeys = new Recent(recentMs);
    this.recentUsers = new Recent(recentMs);
  }

  /**
   * Synchronous (no promise) for run-as-system functions and for a Bearer token or API key whose user this instance
   * checked within `recentMs` (the HTTP thread saves the promise chain); otherwise a lookup. Credential errors throw.
   */
  resolve(fn: FunctionDef, ep: Pick<EndpointDef, 'fetchCustomUserData' | 'createUserOnAuth'>, req: IncomingRequestData): ExecutionIdentity | Promise<ExecutionIdentity> {
    if (fn.runAsSystem) return SYSTEM_IDENTITY;
    if (fn.runAsUserId) return this.fixedUser(fn.runAsUserId, ep.fetchCustomUserData);
    if (fn.runAsUserIdScriptSource) return this.scriptUser(fn, ep, req);
    const creds = endpointCredentials(req);
    if (!ep.fetchCustomUserData) {
      const remembered = creds.kind === 'bearer' ? this.sessions.recentFromAccess(creds.token)?.loaded : creds.kind === 'api-key' ? this.recentKey(creds.key) : undefined;
      if (remembered) return { user: this.users.sharedInfo(remembered), runAsSystem: false };
    }
    return this.applicationUser(ep, req, creds);
  }

  /** Forgets the remembered API keys and users (after a key or a user changed). */
  forgetRemembered(): void {
    this.recentKeys.clear();
    this.recentUsers.clear();
  }

  private recentKey(secret: string): LoadedUser | undefined {
    const digest = this.providers.apiKeys.digestOf(secret);
    return digest === null ? undefined : this.recentKeys.get(digest);
  }

  private rememberKey(secret: string, loaded: LoadedUser): void {
    const digest = this.providers.apiKeys.digestOf(secret);
    if (digest !== null && !loaded.user.disabled) this.recentKeys.set(digest, loaded);
  }

  /** The identity a logged-in caller's function call runs with (client API functions/call). */
  async forCaller(fn: FunctionDef, caller: UserInfo, req: IncomingRequestData): Promise<ExecutionIdentity> {
    if (fn.runAsSystem) return { user: caller, runAsSystem: true };
    if (fn.runAsUserId) return this.fixedUser(fn.runAsUserId, true);
    if (fn.runAsUserIdScriptSource) return this.scriptUser(fn, { fetchCustomUserData: true }, req);
    return { user: caller, runAsSystem: false };
  }

  private async fixedUser(userId: string, fetchCustomData: boolean): Promise<ExecutionIdentity> {
    let loaded = this.recentUsers.get(userId) ?? null;
    if (!loaded) {
      loaded = await this.users.load(userId);
      if (!loaded) throw noUserForEndpoint();
      if (loaded.user.disabled) throw new AuthError(401, 'UserDisabled', 'user disabled');
      this.recentUsers.set(userId, loaded);
    }
    return { user: await this.info(loaded, fetchCustomData), runAsSystem: false };
  }

  private async scriptUser(fn: FunctionDef, ep: Pick<EndpointDef, 'fetchCustomUserData'>, req: IncomingRequestData): Promise<ExecutionIdentity> {
    // The script gets the request payload, in the shape an endpoint function's first argument has (§6.1).
    const payload: Record<string, unknown> = { query: queryObject(req.rawQuery), headers: headerObject(req) };
    if (req.body !== undefined) payload.body = new Binary(req.body);
    const result = await callFunction(this.run, {
      name: `${fn.name} (run_as_user_id_script_source)`,
      source: fn.runAsUserIdScriptSource,
      args: [payload],
      runAsSystem: true,
      request: req,
    });
    if (typeof result === 'string' && result !== '') return this.fixedUser(result, ep.fetchCustomUserData);
    if (typeof result === 'object' && result !== null) {
      const r = result as { runAsSystem?: unknown; runAsSystemUser?: unknown };
      if (r.runAsSystem === true || r.runAsSystemUser === true) return SYSTEM_IDENTITY;
    }
    throw noUserForEndpoint();
  }

  private async applicationUser(ep: Pick<EndpointDef, 'fetchCustomUserData' | 'createUserOnAuth'>, req: IncomingRequestData, creds: EndpointCredentials): Promise<ExecutionIdentity> {
    let loaded: LoadedUser | null;
    if (creds.kind === 'bearer') {
      try {
        loaded = (await this.sessions.fromAccess(creds.token)).loaded;
      } catch (err) {
        // Bearer failures stay terse (§8.1), except the two a client can act on.
        if (err instanceof AuthError && (err.code === 'UserDisabled' || err.message.endsWith('access token expired'))) throw err;
        throw noUserForEndpoint();
      }
    } else if (creds.kind === 'api-key') {
      loaded = this.recentKey(creds.key) ?? null;
      if (!loaded) {
        const v = await this.providers.apiKeys.verify(creds.key, req.remoteIp, enabledProviderOfType(this.app, 'api-key').name);
        loaded = await this.users.forIdentity(v, ep.createUserOnAuth);
        if (loaded) this.rememberKey(creds.key, loaded);
      }
    } else {
      let v: VerifiedIdentity;
      if (creds.kind === 'userpass') v = await this.providers.userpass().verify(creds.email, creds.password, req.remoteIp);
      else v = await this.providers.customToken().verify(creds.token, req.remoteIp);
      loaded = await this.users.forIdentity(v, ep.createUserOnAuth);
    }
    if (!loaded) throw noUserForEndpoint();
    return { user: await this.info(loaded, ep.fetchCustomUserData), runAsSystem: false };
  }

  private async info(loaded: LoadedUser, fetchCustomData: boolean): Promise<UserInfo> {
    if (!fetchCustomData) return this.users.sharedInfo(loaded);
    return this.users.info(loaded, await this.users.customDataOf(loaded.user.id));
  }

  /** §10.3: throws 403 FunctionNotCallable when the function's can_evaluate does not hold. */
  async checkCanEvaluate(fn: FunctionDef, identity: ExecutionIdentity, req: IncomingRequestData, args?: unknown[]): Promise<void> {
    if (Object.keys(fn.canEvaluate).length === 0) return;
    let allowed: boolean;
    try {
      allowed = await evaluateExpression(fn.canEvaluate, {
        user: identity.user ?? undefined,
        request: requestExpansion(req, fn.name),
        values: this.app.values,
        environment: this.app.environment,
        args,
        defaultTarget: 'args',
        callFunction: (name, fnArgs) => callFunction(this.run, { name, args: fnArgs, runAsSystem: true, user: identity.user, request: req }),
      });
    } catch (err) {
      if (err instanceof ExpressionError) throw new AuthError(500, 'InternalServerError', `the can_evaluate expression of function "${fn.name}" is invalid: ${err.message}`);
      throw err;
    }
    if (!allowed) throw new AuthError(403, 'FunctionNotCallable', `rule not matched for function "${fn.name}"`);
  }
}
