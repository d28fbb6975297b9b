// Operator actions on users and server API keys (the `atrium users` / `atrium apikeys` commands). They work on the
// platform store directly, without a server or worker pool, so no app function runs here (on-user-creation
// functions run only for users created through the server).
import * as path from 'node:path';
import type { AppDefinition } from '../app/types';
import type { ApiKeyRecord, IdentityRecord, PlatformStore, UserRecord } from '../platform';
import { openSqlitePlatformStore } from '../platform';
import type { InvocationResult } from '../runtime/types';
import { ProviderSet, emailKey } from './providers';
import type { CreatedApiKey } from './providers';
import { loadAuthKeys } from './secrets';
import { LoginThrottle } from './throttle';
import { UserDirectory } from './users';

export interface UserSummary {
  user: UserRecord;
  identities: IdentityRecord[];
  email: string | null;
}

export interface PendingRegistration {
  email: string;
  createdAt: number;
}

const noFunctions = async (): Promise<InvocationResult> => ({
  status: 500,
  headers: [],
  body: null,
  logs: [],
  error: { code: 'FunctionExecutionError', message: 'app functions do not run from the command line' },
});

export class AuthAdmin {
  private constructor(
    private readonly store: PlatformStore,
    private readonly providers: ProviderSet,
  ) {}

  static async open(app: AppDefinition, dataDir: string): Promise<AuthAdmin> {
    const store = openSqlitePlatformStore(path.resolve(dataDir));
    const keys = await loadAuthKeys(store);
    const users = new UserDirectory(app, store, noFunctions, null);
    const providers = new ProviderSet({ app, store, keys, throttle: new LoginThrottle(store), run: noFunctions, users });
    return new AuthAdmin(store, providers);
  }

  /** A confirmed email/password user. */
  async createUser(email: string, password: string): Promise<UserRecord> {
    return (await this.providers.userpassForOperator().createConfirmed(email, password)).user;
  }

  /** Confirms a pending email/password registration. */
  async confirmUser(email: string): Promise<UserRecord> {
    return (await this.providers.userpassForOperator().confirmByEmail(email)).user;
  }

  async listUsers(): Promise<UserSummary[]> {
    const out: UserSummary[] = [];
    for (const user of await this.store.listUsers()) {
      const identities = await this.store.listIdentities(user.id);
      const up = await this.store.getUserpassByUser(user.id);
      out.push({ user, identities, email: up?.email ?? null });
    }
    return out;
  }

  /** Email/password registrations that wait for confirmation (`atrium users confirm`). */
  async listPending(): Promise<PendingRegistration[]> {
    return (await this.store.listPendingUserpass()).map((r) => ({ email: r.email, createdAt: r.createdAt }));
  }

  /** A user by id or by email. */
  async findUser(idOrEmail: string): Promise<UserRecord | null> {
    if (/^[0-9a-f]{24}$/.test(idOrEmail)) {
      const u = await this.store.getUser(idOrEmail);
      if (u) return u;
    }
    const up = await this.store.getUserpass(emailKey(idOrEmail));
    return up?.userId ? this.store.getUser(up.userId) : null;
  }

  /** Disabling also ends the user's sessions, so its tokens stop working at once. */
  async setUserDisabled(id: string, disabled: boolean): Promise<boolean> {
    const changed = await this.store.setUserDisabled(id, disabled);
    if (disabled) await this.store.deleteSessionsOfUser(id);
    return changed;
  }

  async deleteUser(id: string): Promise<boolean> {
    return this.store.deleteUser(id);
  }

  async createApiKey(name: string): Promise<CreatedApiKey> {
    return this.providers.apiKeys.createServerKey(name);
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return this.store.listApiKeys({ kind: 'server' });
  }

  /** A server key by id or name. */
  async findApiKey(idOrName: string): Promise<ApiKeyRecord | null> {
    const keys = await this.listApiKeys();
    return keys.find((k) => k.id === idOrName) ?? keys.find((k) => k.name === idOrName) ?? null;
  }

  async setApiKeyDisabled(id: string, disabled: boolean): Promise<boolean> {
    const changed = await this.store.setApiKeyDisabled(id, disabled);
    const key = await this.store.getApiKey(id);
    if (disabled && key) await this.store.deleteSessionsOfUser(key.userId);
    return changed;
  }

  async deleteApiKey(id: string): Promise<boolean> {
    return this.store.deleteApiKey(id);
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
