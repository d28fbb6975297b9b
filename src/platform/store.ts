// Platform state for application auth: users, identities, email/password credentials, API keys, sessions, signing
// keys and login-failure counters. One interface (DESIGN "Data": Parse-Server-style adapter); the embedded form is
// SQLite (store-sqlite.ts). Every method is async so a MongoDB-backed form can implement the same interface, and
// nothing here lives only in one process's memory, so several instances can share one store.

export interface UserRecord {
  /** ObjectId hex. */
  id: string;
  type: 'normal' | 'server';
  /** Provider metadata merged into context.user.data (email, name, JWT metadata fields, ...). */
  data: Record<string, unknown>;
  disabled: boolean;
  /** Milliseconds since the epoch. */
  createdAt: number;
  lastLoginAt: number | null;
}

export interface IdentityRecord {
  userId: string;
  /** Provider name as configured (the key in auth/providers.json; equals the type in exports). */
  providerName: string;
  providerType: string;
  /** The id the provider knows the user by (JWT `sub`, custom-function id, credential id, API key id). */
  externalId: string;
  data: Record<string, unknown>;
}

/** A local-userpass account. Pending registrations have no user yet. */
export interface UserpassRecord {
  /** Lookup key: the email trimmed and lower-cased. */
  emailKey: string;
  /** The email as registered. */
  email: string;
  /** Identity id given to the user (ObjectId hex). */
  credentialId: string;
  userId: string | null;
  passwordHash: string;
  status: 'pending' | 'confirmed';
  createdAt: number;
}

/** A one-time token for email confirmation or password reset; only its hash is stored. */
export interface UserpassToken {
  /** tokenId as handed to the client (ObjectId hex). */
  id: string;
  emailKey: string;
  kind: 'confirm' | 'reset';
  tokenHash: string;
  expiresAt: number;
}

export interface ApiKeyRecord {
  /** ObjectId hex (`_id` in the client API). */
  id: string;
  name: string;
  /** `server` keys belong to their own server user; `user` keys log in as the user who created them. */
  kind: 'server' | 'user';
  userId: string;
  disabled: boolean;
  createdAt: number;
}

export interface SessionRecord {
  /** ObjectId hex; carried in both tokens. */
  id: string;
  userId: string;
  providerName: string;
  providerType: string;
  /** The identity (or API key id) the session was opened with. */
  identityId: string;
  deviceId: string;
  createdAt: number;
  expiresAt: number;
}

/** Thrown by create* methods when a unique key (email, API key name, identity) already exists. */
export class DuplicateKeyError extends Error {
  override name = 'DuplicateKeyError';
}

export interface PlatformStore {
  // Users and identities.
  createUser(user: UserRecord, identities: IdentityRecord[]): Promise<void>;
  getUser(id: string): Promise<UserRecord | null>;
  listUsers(): Promise<UserRecord[]>;
  setUserDisabled(id: string, disabled: boolean): Promise<boolean>;
  updateUser(id: string, patch: { data?: Record<string, unknown>; lastLoginAt?: number }): Promise<void>;
  /** Removes the user with its identities, credentials, API keys and sessions. */
  deleteUser(id: string): Promise<boolean>;
  findIdentity(providerName: string, externalId: string): Promise<IdentityRecord | null>;
  listIdentities(userId: string): Promise<IdentityRecord[]>;
  addIdentity(identity: IdentityRecord): Promise<void>;
  /** Gives an existing identity to another user (identity linking). */
  moveIdentity(providerName: string, externalId: string, toUserId: string): Promise<void>;

  // local-userpass credentials and their one-time tokens.
  getUserpass(emailKey: string): Promise<UserpassRecord | null>;
  getUserpassByUser(userId: string): Promise<UserpassRecord | null>;
  /** Registrations waiting for confirmation (they have no user yet). */
  listPendingUserpass(): Promise<UserpassRecord[]>;
  createUserpass(rec: UserpassRecord): Promise<void>;
  updateUserpass(emailKey: string, patch: { passwordHash?: string; status?: 'pending' | 'confirmed'; userId?: string }): Promise<void>;
  deleteUserpass(emailKey: string): Promise<void>;
  putToken(token: UserpassToken): Promise<void>;
  /** Returns the token and deletes it (one use), or null. */
  takeToken(id: string): Promise<UserpassToken | null>;

  // API keys (only a keyed hash of the key is stored).
  createApiKey(key: ApiKeyRecord, keyHash: string): Promise<void>;
  findApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | null>;
  getApiKey(id: string): Promise<ApiKeyRecord | null>;
  listApiKeys(filter: { kind?: 'server' | 'user'; userId?: string }): Promise<ApiKeyRecord[]>;
  setApiKeyDisabled(id: string, disabled: boolean): Promise<boolean>;
  /** Deletes the key; a server key's user goes with it. */
  deleteApiKey(id: string): Promise<boolean>;

  // Sessions (refresh tokens). Deleting a session revokes both of its tokens.
  createSession(session: SessionRecord): Promise<void>;
  getSession(id: string): Promise<SessionRecord | null>;
  deleteSession(id: string): Promise<boolean>;
  deleteSessionsOfUser(userId: string): Promise<number>;

  /** A named secret (token signing key, API key pepper), created once with `make` and shared by every instance. */
  getOrCreateSecret(name: string, make: () => Buffer): Promise<Buffer>;

  // Login throttling: failures per key inside a sliding window.
  recordFailure(key: string, at: number): Promise<void>;
  /** Failures for `key` at or after `since`, and the time of the oldest of them. */
  countFailures(key: string, since: number): Promise<{ count: number; oldest: number | null }>;
  clearFailures(key: string): Promise<void>;

  close(): Promise<void>;
}
