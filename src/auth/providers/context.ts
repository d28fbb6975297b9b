// What every auth provider gets to work with, and how providers are looked up in auth/providers.json.
import type { AppDefinition, AuthProviderDef } from '../../app/types';
import type { PlatformStore } from '../../platform';
import { providerUnavailable } from '../errors';
import type { RunFunction } from '../functions';
import type { AuthKeys } from '../secrets';
import type { LoginThrottle } from '../throttle';
import type { UserDirectory } from '../users';

export interface ProviderContext {
  app: AppDefinition;
  store: PlatformStore;
  keys: AuthKeys;
  throttle: LoginThrottle;
  run: RunFunction;
  users: UserDirectory;
}

/** The enabled provider of a type (endpoint credential headers name a type, not a provider). */
export function enabledProviderOfType(app: AppDefinition, type: string): AuthProviderDef {
  const byName = app.authProviders[type];
  if (byName && byName.type === type && !byName.disabled) return byName;
  const any = Object.values(app.authProviders).find((p) => p.type === type && !p.disabled);
  if (!any) throw providerUnavailable(type);
  return any;
}

/** The enabled provider a client API URL names (/auth/providers/<name>/...). */
export function enabledProviderNamed(app: AppDefinition, name: string): AuthProviderDef {
  const p = app.authProviders[name] ?? Object.values(app.authProviders).find((d) => d.name === name);
  if (!p || p.disabled) throw providerUnavailable(name);
  return p;
}

export function configString(def: AuthProviderDef, key: string): string {
  const v = def.config[key];
  return typeof v === 'string' ? v : '';
}

export function configBool(def: AuthProviderDef, key: string): boolean {
  return def.config[key] === true;
}
