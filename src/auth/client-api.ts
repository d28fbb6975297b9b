// §9.3 client API under /api/client/v2.0/, the one App Services SDKs (realm-web) call: location, provider login and
// the email/password flows, session refresh and logout, profile, user deletion, user API keys, and functions/call.
import { EJSON, ObjectId } from 'bson';
import type { AppDefinition } from '../app/types';
import type { ClientApiResponse } from '../http';
import type { ApiKeyRecord, PlatformStore } from '../platform';
import type { IncomingRequestData, UserInfo } from '../runtime/types';
import type { EndpointIdentityResolver } from './endpoint-identity';
import { AuthError, invalidParameter } from './errors';
import type { RunFunction } from './functions';
import type { ProviderSet } from './providers';
import { bearerToken, jsonBody, singleHeader, stringField } from './request';
import type { SessionManager, SessionUser } from './sessions';
import type { UserDirectory } from './users';


export const CLIENT_API_PREFIX = '/api/client/v2.0';
const ALLOWED_METHODS = 'GET, POST, PUT, DELETE, OPTIONS';
const DEFAULT_ALLOWED_HEADERS = 'Authorization, Content-Type, Accept, X-Requested-With';

type Handler = () => Promise<ClientApiResponse>;

function reply(status: number, body: unknown = null): ClientApiResponse {
  return { status, headers: [], body };
}

function apiKeyView(k: ApiKeyRecord): Record<string, unknown> {
  return { _id: k.id, name: k.name, disabled: k.disabled };
}

export interface ClientApiParts {
  app: AppDefinition;
  store: PlatformStore;
  users: UserDirectory;
  sessions: SessionManager;
  providers: ProviderSet;
  resolver: EndpointIdentityResolver;
  run: RunFunction;
}

export class ClientApi {
  constructor(private readonly p: ClientApiParts) {}

  /** null when the path is not a client API route this module serves. */
  async handle(method: string, path: string, req: IncomingRequestData): Promise<ClientApiResponse | null> {
    if (!path.startsWith(CLIENT_API_PREFIX + '/')) return null;
    const seg = path.slice(CLIENT_API_PREFIX.length + 1).split('/');
    const route = this.route(seg, method, req);
    if (route === null) return null;
    const cors = this.corsHeaders(req);
    try {
      if (cors === 'refused') throw new AuthError(403, 'DomainNotAllowed', 'requests from this origin are not allowed by the app (allowed_request_origins)');
      if (method === 'OPTIONS') return this.preflight(req, cors);
      if (route === 'method') throw new AuthError(405, 'MethodNotAllowed', `${method} is not allowed on ${path}`);
      if (route === 'app') throw new AuthError(404, 'AppNotFound', `app not found: '${seg[1]}' (this server serves '${this.p.app.appId}')`);
      const res = await route();
      res.headers.push(...cors);
      return res;
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      return { status: err.status, headers: [...err.headers, ...(cors === 'refused' ? [] : cors)], body: { error: err.message, error_code: err.code } };
    }
  }

  /** The handler for a path; 'method' when the path exists with other methods, 'app' for another app id. */
  private route(seg: string[], method: string, req: IncomingRequestData): Handler | 'method' | 'app' | null {
    const m = method === 'OPTIONS' ? null : method;
    const on = (wanted: string, h: Handler): Handler | 'method' => (m === null || m === wanted ? h : 'method');
    if (seg[0] === 'app' && seg.length >= 3) {
      const sub = seg.slice(2);
      const ours = (sub.length === 1 && sub[0] === 'location') || (sub[0] === 'auth' && sub[1] === 'providers' && sub.length >= 4) || (sub[0] === 'functions' && sub[1] === 'call' && sub.length === 2);
      if (!ours) return null;
      if (seg[1] !== this.p.app.appId) return 'app';
      if (sub[0] === 'location') return on('GET', async () => this.location(req));
      if (sub[0] === 'functions') return on('POST', async () => this.callFunction(req));
      const provider = sub[2]; // the HTTP layer already percent-decoded the path
      const action = sub.slice(3).join('/');
      const userpass = (): ReturnType<ProviderSet['userpass']> => this.p.providers.userpass(provider);
      const body = (): Record<string, unknown> => jsonBody(req);
      switch (action) {
        case 'login':
          return on('POST', async () => this.login(provider, req));
        case 'register':
          return on('POST', async () => {
            const b = body();
            await userpass().register(stringField(b, 'email'), stringField(b, 'password'));
            return reply(201);
          });
        case 'confirm':
          return on('POST', async () => {
            const b = body();
            await userpass().confirm(stringField(b, 'token'), stringField(b, 'tokenId'));
            return reply(204);
          });
        case 'confirm/send':
          return on('POST', async () => {
            await userpass().resendConfirmation(stringField(body(), 'email'));
            return reply(204);
          });
        case 'confirm/call':
          return on('POST', async () => {
            await userpass().retryConfirmation(stringField(body(), 'email'));
            return reply(204);
          });
        case 'reset/send':
          return on('POST', async () => {
            await userpass().sendReset(stringField(body(), 'email'));
            return reply(204);
          });
        case 'reset/call':
          return on('POST', async () => {
            const b = body();
            const args = b.arguments ?? [];
            if (!Array.isArray(args)) throw invalidParameter('"arguments" must be an array');
            await userpass().callReset(stringField(b, 'email'), stringField(b, 'password'), args);
            return reply(204);
          });
        case 'reset':
          return on('POST', async () => {
            const b = body();
            await userpass().reset(stringField(b, 'token'), stringField(b, 'tokenId'), stringField(b, 'password'));
            return reply(204);
          });
        default:
          return null;
      }
    }
    if (seg[0] !== 'auth') return null;
    const what = seg.slice(1);
    if (what.length === 1 && what[0] === 'session') {
      if (m === 'POST' || m === null) return async () => reply(201, { access_token: await this.p.sessions.refresh(bearerToken(req)) });
      if (m === 'DELETE') {
        return async () => {
          await this.p.sessions.logout(bearerToken(req));
          return reply(204);
        };
      }
      return 'method';
    }
    if (what.length === 1 && what[0] === 'profile') return on('GET', async () => this.profile(await this.p.sessions.fromAccess(bearerToken(req))));
    if (what.length === 1 && what[0] === 'delete') {
      return on('DELETE', async () => {
        const su = await this.p.sessions.fromAccess(bearerToken(req));
        await this.p.store.deleteUser(su.loaded.user.id);
        this.p.sessions.forgetUser(su.loaded.user.id);
        this.p.resolver.forgetRemembered();
        return reply(204);
      });
    }
    if (what[0] === 'api_keys') return this.apiKeyRoute(what.slice(1), m, req);
    return null;
  }

  private apiKeyRoute(rest: string[], m: string | null, req: IncomingRequestData): Handler | 'method' | null {
    const owner = async (): Promise<SessionUser> => this.p.sessions.fromAnyToken(bearerToken(req));
    const ownKey = async (id: string): Promise<ApiKeyRecord> => {
      const su = await owner();
      const key = ObjectId.isValid(id) ? await this.p.store.getApiKey(id) : null;
      if (!key || key.kind !== 'user' || key.userId !== su.loaded.user.id) throw new AuthError(404, 'APIKeyNotFound', 'API key not found');
      return key;
    };
    if (rest.length === 0) {
      if (m === 'GET' || m === null) return async () => reply(200, (await this.p.store.listApiKeys({ kind: 'user', userId: (await owner()).loaded.user.id })).map(apiKeyView));
      if (m === 'POST') {
        return async () => {
          const su = await owner();
          const created = await this.p.providers.apiKeys.createUserKey(su.loaded, stringField(jsonBody(req), 'name'));
          return reply(201, { ...apiKeyView(created.key), key: created.secret });
        };
      }
      return 'method';
    }
    const id = rest[0];
    if (rest.length === 1) {
      if (m === 'GET' || m === null) return async () => reply(200, apiKeyView(await ownKey(id)));
      if (m === 'DELETE') {
        return async () => {
          await this.p.store.deleteApiKey((await ownKey(id)).id);
          this.p.resolver.forgetRemembered();
          return reply(204);
        };
      }
      return 'method';
    }
    if (rest.length === 2 && (rest[1] === 'enable' || rest[1] === 'disable')) {
      return m === 'PUT' || m === null
        ? async () => {
            await this.p.store.setApiKeyDisabled((await ownKey(id)).id, rest[1] === 'disable');
            this.p.resolver.forgetRemembered();
            return reply(204);
          }
        : 'method';
    }
    return null;
  }

  private location(req: IncomingRequestData): ClientApiResponse {
    // The SDK sends every later request to `hostname`: answer with the address the client used to reach us.
    const host = singleHeader(req, 'host');
    const proto = singleHeader(req, 'x-forwarded-proto') === 'https' ? 'https' : 'http';
    const base = host ? `${proto}://${host}` : req.baseUrl;
    return reply(200, {
      deployment_model: this.p.app.deployment.model || 'GLOBAL',
      location: this.p.app.deployment.location || 'US-VA',
      hostname: base,
      ws_hostname: base.replace(/^http/, 'ws'),
    });
  }

  private async login(provider: string, req: IncomingRequestData): Promise<ClientApiResponse> {
    const body = jsonBody(req);
    if (new URLSearchParams(req.rawQuery).get('link') === 'true') {
      // Link the proven identity to the user of the access token (e.g. an anonymous user who registers).
      const su = await this.p.sessions.fromAccess(bearerToken(req));
      const verified = await this.p.providers.verifyLogin(provider, body, req.remoteIp);
      await this.p.users.link(su.loaded, verified);
      return reply(200, await this.p.sessions.accessFor(su));
    }
    const verified = await this.p.providers.verifyLogin(provider, body, req.remoteIp);
    const loaded = await this.p.users.forIdentity(verified, true);
    if (!loaded) throw new AuthError(401, 'InvalidSession', 'invalid session: user not found');
    const options = body.options;
    const device = typeof options === 'object' && options !== null ? (options as { device?: { deviceId?: unknown } }).device : undefined;
    const deviceId = typeof device?.deviceId === 'string' ? device.deviceId : undefined;
    return reply(200, await this.p.sessions.open(loaded, verified, deviceId));
  }

  private async profile(su: SessionUser): Promise<ClientApiResponse> {
    const { user, identities } = su.loaded;
    return reply(200, {
      user_id: user.id,
      domain_id: this.p.app.internalId || '000000000000000000000000',
      identities: identities.map((i) => ({ id: i.externalId, provider_type: i.providerType, provider_id: i.providerName, provider_data: i.data })),
      data: user.data,
      type: user.type,
    });
  }

  private async callFunction(req: IncomingRequestData): Promise<ClientApiResponse> {
    const su = await this.p.sessions.fromAccess(bearerToken(req));
    const body = jsonBody(req);
    const name = stringField(body, 'name');
    if (body.service !== undefined && body.service !== null && body.service !== '') {
      throw new AuthError(404, 'ServiceNotFound', `calling service "${String(body.service)}" from a client is not supported by Atrium; call an app function instead`);
    }
    const rawArgs = body.arguments ?? [];
    if (!Array.isArray(rawArgs)) throw invalidParameter('"arguments" must be an array');
    let args: unknown[];
    try {
      args = EJSON.deserialize(rawArgs, { relaxed: true }) as unknown[];
    } catch (err) {
      throw invalidParameter(`invalid Extended JSON in "arguments": ${(err as Error).message}`);
    }
    const fn = this.p.app.functions[name];
    if (!fn || fn.private) throw new AuthError(404, 'FunctionNotFound', `function not found: '${name}'`);
    const customData = this.p.users.customDataEnabled ? await this.p.users.customDataOf(su.loaded.user.id) : {};
    const caller: UserInfo = this.p.users.info(su.loaded, customData);
    const identity = await this.p.resolver.forCaller(fn, caller, req);
    await this.p.resolver.checkCanEvaluate(fn, identity, req, args);
    const result = await this.p.run({
      kind: 'function',
      functionName: name,
      argsEJSON: EJSON.stringify(args, { relaxed: false }),
      logId: new ObjectId().toHexString(),
      user: identity.user,
      runAsSystem: identity.runAsSystem,
      request: req,
    });
    if (result.error) throw new AuthError(result.error.code === 'FunctionNotFound' ? 404 : 400, result.error.code, result.error.message);
    return { status: 200, headers: [['Content-Type', 'application/json']], body: null, rawBody: result.body ?? 'null' };
  }

  /** CORS headers for a request with an Origin, or 'refused' when the app's allowed_request_origins excludes it. */
  private corsHeaders(req: IncomingRequestData): Array<[string, string]> | 'refused' {
    const origin = singleHeader(req, 'origin');
    if (origin === undefined) return [];
    const allowed = this.p.app.allowedRequestOrigins;
    if (allowed.length > 0 && !allowed.includes(origin)) return 'refused';
    return [
      ['Access-Control-Allow-Origin', origin],
      ['Vary', 'Origin'],
    ];
  }

  private preflight(req: IncomingRequestData, cors: Array<[string, string]>): ClientApiResponse {
    const asked = singleHeader(req, 'access-control-request-headers');
    return {
      status: 204,
      headers: [...cors, ['Access-Control-Allow-Methods', ALLOWED_METHODS], ['Access-Control-Allow-Headers', asked ?? DEFAULT_ALLOWED_HEADERS], ['Access-Control-Max-Age', '600']],
      body: null,
    };
  }
}
