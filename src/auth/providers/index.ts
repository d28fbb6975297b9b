// The app's auth providers, built once from auth/providers.json, and the login dispatch by provider name.
import type { AuthProviderDef } from '../../app/types';
import { AuthError, badRequest, providerUnavailable } from '../errors';
import { stringField } from '../request';
import type { VerifiedIdentity } from '../users';
import { anonymousIdentity } from './anon-user';
import { ApiKeyProvider } from './api-key';
import type { ProviderContext } from './context';
import { enabledProviderNamed, enabledProviderOfType } from './context';
import { CustomFunctionProvider } from './custom-function';
import { CustomTokenProvider } from './custom-token';
import { LocalUserpassProvider } from './local-userpass';

export type { ProviderContext } from './context';
export { enabledProviderNamed, enabledProviderOfType } from './context';
export { ApiKeyProvider, MAX_SERVER_KEYS, MAX_USER_KEYS } from './api-key';
export type { CreatedApiKey } from './api-key';
export { LocalUserpassProvider, emailKey } from './local-userpass';
export { CustomTokenProvider } from './custom-token';

export class ProviderSet {
  readonly apiKeys: ApiKeyProvider;
  private readonly tokenProviders = new Map<string, CustomTokenProvider>();

  constructor(private readonly ctx: ProviderContext) {
    this.apiKeys = new ApiKeyProvider(ctx);
  }

  /** The local-userpass provider by URL name, or the enabled one when no name is given. */
  userpass(name?: string): LocalUserpassProvider {
    const def = name === undefined ? enabledProviderOfType(this.ctx.app, 'local-userpass') : this.named(name, 'local-userpass');
    return new LocalUserpassProvider(this.ctx, def);
  }

  /** The local-userpass provider even when disabled in the app (operator commands). */
  userpassForOperator(): LocalUserpassProvider {
    const def = Object.values(this.ctx.app.authProviders).find((p) => p.type === 'local-userpass') ?? {
      name: 'local-userpass',
      type: 'local-userpass',
      disabled: false,
      config: {},
      secretConfig: {},
      metadataFields: [],
    };
    return new LocalUserpassProvider(this.ctx, def);
  }

  customToken(name?: string): CustomTokenProvider {
    const def = name === undefined ? enabledProviderOfType(this.ctx.app, 'custom-token') : this.named(name, 'custom-token');
    let p = this.tokenProviders.get(def.name);
    if (!p) {
      // Kept per provider so imported keys and the remote JWKS cache are reused.
      p = new CustomTokenProvider(this.ctx, def);
      this.tokenProviders.set(def.name, p);
    }
    return p;
  }

  /** POST .../auth/providers/<name>/login: who the body proves the caller to be. */
  async verifyLogin(name: string, body: Record<string, unknown>, ip: string): Promise<VerifiedIdentity> {
    const def = enabledProviderNamed(this.ctx.app, name);
    switch (def.type) {
      case 'anon-user':
        return anonymousIdentity(def);
      case 'local-userpass': {
        const username = body.username !== undefined ? stringField(body, 'username') : stringField(body, 'email');
        return this.userpass(def.name).verify(username, stringField(body, 'password'), ip);
      }
      case 'api-key':
        return this.apiKeys.verify(stringField(body, 'key'), ip, def.name);
      case 'custom-token': {
        // realm-web sends {token}; the Data API examples sent {key}.
        const token = body.token !== undefined ? stringField(body, 'token') : stringField(body, 'key');
        return this.customToken(def.name).verify(token, ip);
      }
      case 'custom-function': {
        const payload = { ...body };
        delete payload.options; // the SDK's device information, not part of the app's payload
        return new CustomFunctionProvider(this.ctx, def).verify(payload, ip);
      }
      default:
        if (def.type.startsWith('oauth2-')) throw new AuthError(400, 'AuthProviderNotFound', `authentication via '${def.type}' is not supported by Atrium`);
        throw providerUnavailable(def.type);
    }
  }

  /** Configuration problems found so far (missing signing-key secrets, bad PEM keys, ...). */
  problems(): string[] {
    return [...this.tokenProviders.values()].flatMap((p) => p.problems);
  }

  private named(name: string, type: string): AuthProviderDef {
    const def = enabledProviderNamed(this.ctx.app, name);
    if (def.type !== type) throw badRequest(`provider '${name}' is not a ${type} provider`);
    return def;
  }
}
