// API keys (§9.5 api-key): server keys (each is its own `server` user) and user keys (log in as their creator).
// Keys are 64 random alphanumerics shown once; only HMAC-SHA256(pepper, key) is stored, so checking a key costs one
// HMAC and one indexed lookup, never a password hash.
import { ObjectId } from 'bson';
import { DuplicateKeyError } from '../../platform';
import type { ApiKeyRecord } from '../../platform';
import { AuthError, badRequest } from '../errors';
import { hashApiKey, randomAlphanumeric } from '../secrets';
import type { LoadedUser, VerifiedIdentity } from '../users';
import type { ProviderContext } from './context';

const PROVIDER_TYPE = 'api-key';
const KEY_LENGTH = 64;
/** App Services: at most 100 server keys per app; user keys are limited per user too. */
export const MAX_SERVER_KEYS = 100;
export const MAX_USER_KEYS = 20;

export interface CreatedApiKey {
  key: ApiKeyRecord;
  /** The secret key; shown once, never stored. */
  secret: string;
}

const invalidKey = (): AuthError => new AuthError(401, 'InvalidSession', 'invalid session: invalid API key');

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 256 || /[\u0000-\u001f\u007f]/.test(trimmed)) {
    throw badRequest('an API key name must be 1 to 256 printable characters');
  }
  return trimmed;
}

export class ApiKeyProvider {
  constructor(private readonly ctx: ProviderContext) {}

  /**
   * The identity behind a key; the provider must be enabled by the caller. Keys are 64 random characters, so guessing
   * is hopeless: a valid key is not slowed by the throttle; wrong keys are counted per address and, past the limit,
   * answered 429.
   */
  /** What the store keeps of a key (HMAC with the pepper), or null for a string that cannot be a key. */
  digestOf(secret: string): string | null {
    return secret.length === KEY_LENGTH ? hashApiKey(this.ctx.keys.apiKeyPepper, secret) : null;
  }

  async verify(secret: string, ip: string, providerName = PROVIDER_TYPE): Promise<VerifiedIdentity> {
    const digest = this.digestOf(secret);
    const key = digest !== null ? await this.ctx.store.findApiKeyByHash(digest) : null;
    if (!key) {
      await this.ctx.throttle.check(ip);
      await this.ctx.throttle.failed(ip);
      throw invalidKey();
    }
    if (key.disabled) throw new AuthError(401, 'InvalidSession', 'invalid session: API key disabled');
    return {
      providerName,
      providerType: PROVIDER_TYPE,
      externalId: key.id,
      data: key.kind === 'server' ? { name: key.name } : {},
      userId: key.userId,
      userType: key.kind === 'server' ? 'server' : 'normal',
    };
  }

  /** A server key and the server user it authenticates. */
  async createServerKey(nameRaw: string): Promise<CreatedApiKey> {
    const name = checkName(nameRaw);
    const existing = await this.ctx.store.listApiKeys({ kind: 'server' });
    if (existing.length >= MAX_SERVER_KEYS) throw badRequest(`an app can have at most ${MAX_SERVER_KEYS} server API keys`);
    if (existing.some((k) => k.name === name)) throw new AuthError(409, 'APIKeyAlreadyExists', `an API key named "${name}" already exists`);
    const id = new ObjectId().toHexString();
    const loaded = await this.ctx.users.create({ providerName: PROVIDER_TYPE, providerType: PROVIDER_TYPE, externalId: id, data: { name }, userType: 'server' });
    try {
      return await this.insert(id, name, 'server', loaded.user.id);
    } catch (err) {
      await this.ctx.store.deleteUser(loaded.user.id);
      throw err;
    }
  }

  /** A user key (POST /auth/api_keys). */
  async createUserKey(owner: LoadedUser, nameRaw: string): Promise<CreatedApiKey> {
    const name = checkName(nameRaw);
    if (owner.user.type === 'server') throw badRequest('server users cannot create user API keys');
    const existing = await this.ctx.store.listApiKeys({ kind: 'user', userId: owner.user.id });
    if (existing.length >= MAX_USER_KEYS) throw badRequest(`a user can have at most ${MAX_USER_KEYS} API keys`);
    return this.insert(new ObjectId().toHexString(), name, 'user', owner.user.id);
  }

  private async insert(id: string, name: string, kind: 'server' | 'user', userId: string): Promise<CreatedApiKey> {
    const secret = randomAlphanumeric(KEY_LENGTH);
    const key: ApiKeyRecord = { id, name, kind, userId, disabled: false, createdAt: Date.now() };
    try {
      await this.ctx.store.createApiKey(key, hashApiKey(this.ctx.keys.apiKeyPepper, secret));
    } catch (err) {
      if (err instanceof DuplicateKeyError) throw new AuthError(409, 'APIKeyAlreadyExists', `an API key named "${name}" already exists`);
      throw err;
    }
    return { key, secret };
  }
}
