// Custom function auth (§9.5 custom-function): the app's auth function gets the login payload and returns the
// user's external id, or {id, name}. A throw refuses the login with the function's message.
import type { AuthProviderDef } from '../../app/types';
import { AuthError } from '../errors';
import { callFunction } from '../functions';
import type { VerifiedIdentity } from '../users';
import type { ProviderContext } from './context';
import { configString } from './context';

const PROVIDER_TYPE = 'custom-function';

export class CustomFunctionProvider {
  constructor(
    private readonly ctx: ProviderContext,
    readonly def: AuthProviderDef,
  ) {}

  async verify(payload: Record<string, unknown>, ip: string): Promise<VerifiedIdentity> {
    const fnName = configString(this.def, 'authFunctionName');
    if (!fnName) throw new AuthError(500, 'InternalServerError', 'custom-function: authFunctionName is not configured');
    await this.ctx.throttle.check(ip);
    let result: unknown;
    try {
      result = await callFunction(this.ctx.run, { name: fnName, args: [payload], runAsSystem: true }, 401);
    } catch (err) {
      if (err instanceof AuthError && err.status === 401) {
        await this.ctx.throttle.failed(ip);
        throw new AuthError(401, 'AuthError', err.message);
      }
      throw err;
    }
    let id: unknown = result;
    const data: Record<string, unknown> = {};
    if (typeof result === 'object' && result !== null && !Array.isArray(result)) {
      const r = result as { id?: unknown; name?: unknown };
      id = r.id;
      if (typeof r.name === 'string') data.name = r.name;
    }
    if (typeof id === 'number') id = String(id);
    if (typeof id !== 'string' || id === '') {
      throw new AuthError(401, 'AuthError', `the auth function "${fnName}" must return a non-empty string id or {id, name}`);
    }
    return { providerName: this.def.name, providerType: PROVIDER_TYPE, externalId: id, data };
  }
}
