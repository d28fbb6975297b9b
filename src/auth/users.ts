// Users as auth sees them: find or create the user behind a verified identity, build the §9.4 user object, load
// custom user data (§9.6) through the data layer, and run the app's on-user-creation function.
import { EJSON, ObjectId } from 'bson';
import type { AppDefinition } from '../app/types';
import { createServiceClient } from '../data/index';
import { DuplicateKeyError, type IdentityRecord, type PlatformStore, type UserRecord } from '../platform';
import { freezeData, type UserInfo } from '../runtime';
import { AuthError, userDisabled } from './errors';
import type { RunFunction } from './functions';
import { callFunction } from './functions';

/** What a provider proved: who the caller is to that provider. */
export interface VerifiedIdentity {
  providerName: string;
  providerType: string;
  /** The id the provider knows the user by. */
  externalId: string;
  /** Metadata merged into user.data (email, name, JWT metadata fields). */
  data: Record<string, unknown>;
  /** Set when the provider already knows the user (confirmed email/password, API keys). */
  userId?: string;
  userType?: 'normal' | 'server';
}

/** Reads the custom user data document of a user, or null. Replaceable for deployments without the data layer. */
export type CustomUserDataReader = (userId: string) => Promise<Record<string, unknown> | null>;

export interface LoadedUser {
  user: UserRecord;
  identities: IdentityRecord[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Custom user data through the data layer's service client, as the system user (rules do not apply).
 * The document is handed on as relaxed Extended JSON (plain JSON values), which survives worker messages and tokens.
 */
export function dataLayerCustomUserData(app: AppDefinition, dataDir: string, mongodbUris: Record<string, string>): CustomUserDataReader | null {
  const cfg = app.customUserData;
  if (!cfg || !cfg.enabled) return null;
  return async (userId) => {
    const client = createServiceClient({
      app,
      serviceName: cfg.mongoServiceName,
      dataDir,
      mongodbUri: mongodbUris[cfg.mongoServiceName],
      identity: { user: null, runAsSystem: true },
    });
    const db = isRecord(client) && typeof client.db === 'function' ? (client.db as (n: string) => unknown)(cfg.databaseName) : undefined;
    const coll = isRecord(db) && typeof db.collection === 'function' ? (db.collection as (n: string) => unknown)(cfg.collectionName) : undefined;
    if (!isRecord(coll) || typeof coll.findOne !== 'function') {
      throw new Error(`custom user data: data source "${cfg.mongoServiceName}" has no collection API`);
    }
    const doc: unknown = await (coll.findOne as (q: unknown) => Promise<unknown>).call(coll, { [cfg.userIdField]: userId });
    if (!isRecord(doc)) return null;
    const plain: unknown = EJSON.serialize(doc, { relaxed: true });
    return isRecord(plain) ? plain : null;
  };
}

export class UserDirectory {
  private readonly sharedInfos = new WeakMap<LoadedUser, UserInfo>();

  constructor(
    private readonly app: AppDefinition,
    private readonly store: PlatformStore,
    private readonly run: RunFunction,
    private readonly customData: CustomUserDataReader | null,
  ) {}

  async load(userId: string): Promise<LoadedUser | null> {
    const user = await this.store.getUser(userId);
    if (!user) return null;
    return { user, identities: await this.store.listIdentities(userId) };
  }

  /**
   * The user behind a verified identity. Creates it when `create` (logins, create_user_on_auth); returns null when
   * there is none and creation is off. Provider metadata is merged into user.data on every login.
   */
  async forIdentity(v: VerifiedIdentity, create: boolean): Promise<LoadedUser | null> {
    let userId = v.userId;
    if (userId === undefined) {
      const identity = await this.store.findIdentity(v.providerName, v.externalId);
      userId = identity?.userId;
    }
    if (userId !== undefined) {
      const loaded = await this.load(userId);
      if (!loaded) return null;
      if (loaded.user.disabled) throw userDisabled();
      if (Object.keys(v.data).length > 0 && !sameData(loaded.user.data, { ...loaded.user.data, ...v.data })) {
        loaded.user.data = { ...loaded.user.data, ...v.data };
        await this.store.updateUser(loaded.user.id, { data: loaded.user.data });
      }
      return loaded;
    }
    if (!create) return null;
    return this.create(v);
  }

  async create(v: VerifiedIdentity): Promise<LoadedUser> {
    const user: UserRecord = { id: new ObjectId().toHexString(), type: v.userType ?? 'normal', data: { ...v.data }, disabled: false, createdAt: Date.now(), lastLoginAt: null };
    const identity: IdentityRecord = { userId: user.id, providerName: v.providerName, providerType: v.providerType, externalId: v.externalId, data: { ...v.data } };
    try {
      await this.store.createUser(user, [identity]);
    } catch (err) {
      // Another request created the same identity first: use that user.
      if (err instanceof DuplicateKeyError) {
        const again = await this.forIdentity(v, false);
        if (again) return again;
      }
      throw err;
    }
    const loaded = { user, identities: [identity] };
    await this.afterCreate(loaded);
    return loaded;
  }

  /**
   * Identity linking (login with `?link=true`): adds the identity to `current`. An email/password identity of a user
   * who never logged in (a fresh registration) moves over and that empty user is removed; an identity that belongs to
   * another user who has used it is refused.
   */
  async link(current: LoadedUser, v: VerifiedIdentity): Promise<LoadedUser> {
    const inUse = (): AuthError => new AuthError(409, 'AccountNameInUse', 'a user already exists with the specified provider');
    if (v.providerType === 'api-key') throw new AuthError(400, 'InvalidParameter', 'API keys cannot be linked to a user');
    const ownerId = v.userId ?? (await this.store.findIdentity(v.providerName, v.externalId))?.userId;
    if (ownerId === current.user.id) return (await this.load(current.user.id)) ?? current;
    if (ownerId !== undefined) {
      const other = await this.load(ownerId);
      const movable = other && v.providerType === 'local-userpass' && other.user.lastLoginAt === null && other.identities.length === 1 && typeof v.data.email === 'string';
      if (!movable) throw inUse();
      await this.store.updateUserpass(String(v.data.email).trim().toLowerCase(), { userId: current.user.id });
      await this.store.moveIdentity(v.providerName, v.externalId, current.user.id);
      await this.store.deleteUser(ownerId);
    } else {
      await this.store.addIdentity({ userId: current.user.id, providerName: v.providerName, providerType: v.providerType, externalId: v.externalId, data: { ...v.data } });
    }
    if (Object.keys(v.data).length > 0) await this.store.updateUser(current.user.id, { data: { ...current.user.data, ...v.data } });
    return (await this.load(current.user.id)) ?? current;
  }

  /** Runs auth/custom_user_data.json's on_user_creation_function_name with the new user; its failure does not undo the user. */
  async afterCreate(loaded: LoadedUser): Promise<void> {
    const fn = this.app.customUserData?.enabled ? this.app.customUserData.onUserCreationFunctionName : '';
    if (!fn) return;
    try {
      await callFunction(this.run, { name: fn, args: [this.info(loaded, {})], runAsSystem: true });
    } catch {
      // The user exists either way; the function's error is in its own invocation log.
    }
  }

  async customDataOf(userId: string): Promise<Record<string, unknown>> {
    if (!this.customData) return {};
    try {
      return (await this.customData(userId)) ?? {};
    } catch {
      // No data layer, or the data source is down: the user still authenticates, without custom data.
      return {};
    }
  }

  get customDataEnabled(): boolean {
    return this.customData !== null;
  }

  /** §9.4 user object. */
  /**
   * info() without custom data, made once per loaded user and frozen: the HTTP thread hands the same object to every
   * request of a session it remembers, and the pool encodes it once (wire.ts).
   */
  sharedInfo(loaded: LoadedUser): UserInfo {
    let info = this.sharedInfos.get(loaded);
    if (!info) {
      info = freezeData(this.info(loaded, {}));
      this.sharedInfos.set(loaded, info);
    }
    return info;
  }

  info(loaded: LoadedUser, customData: Record<string, unknown>): UserInfo {
    return {
      id: loaded.user.id,
      type: loaded.user.type,
      data: { ...loaded.user.data },
      custom_data: customData,
      identities: loaded.identities.map((i) => ({ id: i.externalId, provider_type: i.providerType, data: { ...i.data } })),
    };
  }
}

function sameData(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
