// The embedded PlatformStore: one SQLite file (<dataDir>/platform.sqlite) in WAL mode, so several Atrium processes
// on one machine can share it (busy_timeout makes concurrent writers wait instead of failing).
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { ApiKeyRecord, IdentityRecord, PlatformStore, SessionRecord, UserRecord, UserpassRecord, UserpassToken } from './store';
import { DuplicateKeyError } from './store';

export const PLATFORM_DB_FILE = 'platform.sqlite';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY, type TEXT NOT NULL, data TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL, last_login_at INTEGER
);
CREATE TABLE IF NOT EXISTS identities (
  provider_name TEXT NOT NULL, external_id TEXT NOT NULL, user_id TEXT NOT NULL, provider_type TEXT NOT NULL,
  data TEXT NOT NULL, PRIMARY KEY (provider_name, external_id)
);
CREATE INDEX IF NOT EXISTS identities_user ON identities (user_id);
CREATE TABLE IF NOT EXISTS userpass (
  email_key TEXT PRIMARY KEY, email TEXT NOT NULL, credential_id TEXT NOT NULL, user_id TEXT,
  password_hash TEXT NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS userpass_user ON userpass (user_id);
CREATE TABLE IF NOT EXISTS userpass_tokens (
  id TEXT PRIMARY KEY, email_key TEXT NOT NULL, kind TEXT NOT NULL, token_hash TEXT NOT NULL, expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, user_id TEXT NOT NULL, key_hash TEXT NOT NULL UNIQUE,
  disabled INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,
  -- names are unique among server keys (scope '') and among each user's keys (scope = user id)
  scope TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS api_keys_name ON api_keys (scope, name);
CREATE INDEX IF NOT EXISTS api_keys_user ON api_keys (user_id);
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL, provider_name TEXT NOT NULL, provider_type TEXT NOT NULL,
  identity_id TEXT NOT NULL, device_id TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id);
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS login_failures (key TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures (key, at);
`;

interface UserRow {
  id: string;
  type: string;
  data: string;
  disabled: number;
  created_at: number;
  last_login_at: number | null;
}
interface IdentityRow {
  provider_name: string;
  external_id: string;
  user_id: string;
  provider_type: string;
  data: string;
}
interface UserpassRow {
  email_key: string;
  email: string;
  credential_id: string;
  user_id: string | null;
  password_hash: string;
  status: string;
  created_at: number;
}
interface TokenRow {
  id: string;
  email_key: string;
  kind: string;
  token_hash: string;
  expires_at: number;
}
interface ApiKeyRow {
  id: string;
  name: string;
  kind: string;
  user_id: string;
  disabled: number;
  created_at: number;
}
interface SessionRow {
  id: string;
  user_id: string;
  provider_name: string;
  provider_type: string;
  identity_id: string;
  device_id: string;
  created_at: number;
  expires_at: number;
}

function parseObject(text: string): Record<string, unknown> {
  const v: unknown = JSON.parse(text);
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function toUser(r: UserRow): UserRecord {
  return { id: r.id, type: r.type === 'server' ? 'server' : 'normal', data: parseObject(r.data), disabled: r.disabled !== 0, createdAt: r.created_at, lastLoginAt: r.last_login_at };
}
function toIdentity(r: IdentityRow): IdentityRecord {
  return { userId: r.user_id, providerName: r.provider_name, providerType: r.provider_type, externalId: r.external_id, data: parseObject(r.data) };
}
function toUserpass(r: UserpassRow): UserpassRecord {
  return {
    emailKey: r.email_key,
    email: r.email,
    credentialId: r.credential_id,
    userId: r.user_id,
    passwordHash: r.password_hash,
    status: r.status === 'confirmed' ? 'confirmed' : 'pending',
    createdAt: r.created_at,
  };
}
function toApiKey(r: ApiKeyRow): ApiKeyRecord {
  return { id: r.id, name: r.name, kind: r.kind === 'user' ? 'user' : 'server', userId: r.user_id, disabled: r.disabled !== 0, createdAt: r.created_at };
}
function toSession(r: SessionRow): SessionRecord {
  return {
    id: r.id,
    userId: r.user_id,
    providerName: r.provider_name,
    providerType: r.provider_type,
    identityId: r.identity_id,
    deviceId: r.device_id,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && String((err as { code?: unknown }).code).startsWith('SQLITE_CONSTRAINT');
}

export class SqlitePlatformStore implements PlatformStore {
  private readonly db: Database.Database;
  private readonly stmt: ReturnType<SqlitePlatformStore['prepare']>;
  private failuresSincePrune = 0;

  constructor(file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.stmt = this.prepare();
  }

  private prepare() {
    const db = this.db;
    return {
      insertUser: db.prepare('INSERT INTO users (id, type, data, disabled, created_at, last_login_at) VALUES (?, ?, ?, ?, ?, ?)'),
      getUser: db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?'),
      listUsers: db.prepare<[], UserRow>('SELECT * FROM users ORDER BY created_at, id'),
      setDisabled: db.prepare('UPDATE users SET disabled = ? WHERE id = ?'),
      setData: db.prepare('UPDATE users SET data = ? WHERE id = ?'),
      setLogin: db.prepare('UPDATE users SET last_login_at = ? WHERE id = ?'),
      deleteUser: db.prepare('DELETE FROM users WHERE id = ?'),
      insertIdentity: db.prepare('INSERT INTO identities (provider_name, external_id, user_id, provider_type, data) VALUES (?, ?, ?, ?, ?)'),
      findIdentity: db.prepare<[string, string], IdentityRow>('SELECT * FROM identities WHERE provider_name = ? AND external_id = ?'),
      listIdentities: db.prepare<[string], IdentityRow>('SELECT * FROM identities WHERE user_id = ? ORDER BY rowid'),
      deleteIdentities: db.prepare('DELETE FROM identities WHERE user_id = ?'),
      moveIdentity: db.prepare('UPDATE identities SET user_id = ? WHERE provider_name = ? AND external_id = ?'),
      getUserpass: db.prepare<[string], UserpassRow>('SELECT * FROM userpass WHERE email_key = ?'),
      getUserpassByUser: db.prepare<[string], UserpassRow>('SELECT * FROM userpass WHERE user_id = ?'),
      listPendingUserpass: db.prepare<[], UserpassRow>("SELECT * FROM userpass WHERE status = 'pending' ORDER BY created_at"),
      insertUserpass: db.prepare('INSERT INTO userpass (email_key, email, credential_id, user_id, password_hash, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      deleteUserpass: db.prepare('DELETE FROM userpass WHERE email_key = ?'),
      deleteUserpassOfUser: db.prepare('DELETE FROM userpass WHERE user_id = ?'),
      insertToken: db.prepare('INSERT INTO userpass_tokens (id, email_key, kind, token_hash, expires_at) VALUES (?, ?, ?, ?, ?)'),
      getToken: db.prepare<[string], TokenRow>('SELECT * FROM userpass_tokens WHERE id = ?'),
      deleteToken: db.prepare('DELETE FROM userpass_tokens WHERE id = ?'),
      pruneTokens: db.prepare('DELETE FROM userpass_tokens WHERE expires_at < ?'),
      insertApiKey: db.prepare('INSERT INTO api_keys (id, name, kind, user_id, key_hash, disabled, created_at, scope) VALUES (?, ?, ?, ?, ?, 0, ?, ?)'),
      apiKeyByHash: db.prepare<[string], ApiKeyRow>('SELECT id, name, kind, user_id, disabled, created_at FROM api_keys WHERE key_hash = ?'),
      apiKeyById: db.prepare<[string], ApiKeyRow>('SELECT id, name, kind, user_id, disabled, created_at FROM api_keys WHERE id = ?'),
      listApiKeysOfKind: db.prepare<[string], ApiKeyRow>('SELECT id, name, kind, user_id, disabled, created_at FROM api_keys WHERE kind = ? ORDER BY created_at, id'),
      listApiKeysOfUser: db.prepare<[string], ApiKeyRow>('SELECT id, name, kind, user_id, disabled, created_at FROM api_keys WHERE user_id = ? ORDER BY created_at, id'),
      setApiKeyDisabled: db.prepare('UPDATE api_keys SET disabled = ? WHERE id = ?'),
      deleteApiKey: db.prepare('DELETE FROM api_keys WHERE id = ?'),
      deleteApiKeysOfUser: db.prepare('DELETE FROM api_keys WHERE user_id = ?'),
      insertSession: db.prepare('INSERT INTO sessions (id, user_id, provider_name, provider_type, identity_id, device_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      getSession: db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE id = ?'),
      deleteSession: db.prepare('DELETE FROM sessions WHERE id = ?'),
      deleteSessionsOfUser: db.prepare('DELETE FROM sessions WHERE user_id = ?'),
      pruneSessions: db.prepare('DELETE FROM sessions WHERE expires_at < ?'),
      insertSecret: db.prepare('INSERT OR IGNORE INTO secrets (name, value, created_at) VALUES (?, ?, ?)'),
      getSecret: db.prepare<[string], { value: Buffer }>('SELECT value FROM secrets WHERE name = ?'),
      insertFailure: db.prepare('INSERT INTO login_failures (key, at) VALUES (?, ?)'),
      countFailures: db.prepare<[string, number], { n: number; oldest: number | null }>('SELECT COUNT(*) AS n, MIN(at) AS oldest FROM login_failures WHERE key = ? AND at >= ?'),
      clearFailures: db.prepare('DELETE FROM login_failures WHERE key = ?'),
      pruneFailures: db.prepare('DELETE FROM login_failures WHERE at < ?'),
    };
  }

  async createUser(user: UserRecord, identities: IdentityRecord[]): Promise<void> {
    const tx = this.db.transaction(() => {
      this.stmt.insertUser.run(user.id, user.type, JSON.stringify(user.data), user.disabled ? 1 : 0, user.createdAt, user.lastLoginAt);
      for (const i of identities) this.stmt.insertIdentity.run(i.providerName, i.externalId, user.id, i.providerType, JSON.stringify(i.data));
    });
    try {
      tx();
    } catch (err) {
      if (isUniqueViolation(err)) throw new DuplicateKeyError('a user with that identity already exists');
      throw err;
    }
  }

  async getUser(id: string): Promise<UserRecord | null> {
    const r = this.stmt.getUser.get(id);
    return r ? toUser(r) : null;
  }

  async listUsers(): Promise<UserRecord[]> {
    return this.stmt.listUsers.all().map(toUser);
  }

  async setUserDisabled(id: string, disabled: boolean): Promise<boolean> {
    return this.stmt.setDisabled.run(disabled ? 1 : 0, id).changes > 0;
  }

  async updateUser(id: string, patch: { data?: Record<string, unknown>; lastLoginAt?: number }): Promise<void> {
    if (patch.data !== undefined) this.stmt.setData.run(JSON.stringify(patch.data), id);
    if (patch.lastLoginAt !== undefined) this.stmt.setLogin.run(patch.lastLoginAt, id);
  }

  async deleteUser(id: string): Promise<boolean> {
    const tx = this.db.transaction(() => {
      this.stmt.deleteIdentities.run(id);
      this.stmt.deleteUserpassOfUser.run(id);
      this.stmt.deleteApiKeysOfUser.run(id);
      this.stmt.deleteSessionsOfUser.run(id);
      return this.stmt.deleteUser.run(id).changes > 0;
    });
    return tx();
  }

  async findIdentity(providerName: string, externalId: string): Promise<IdentityRecord | null> {
    const r = this.stmt.findIdentity.get(providerName, externalId);
    return r ? toIdentity(r) : null;
  }

  async listIdentities(userId: string): Promise<IdentityRecord[]> {
    return this.stmt.listIdentities.all(userId).map(toIdentity);
  }

  async addIdentity(i: IdentityRecord): Promise<void> {
    try {
      this.stmt.insertIdentity.run(i.providerName, i.externalId, i.userId, i.providerType, JSON.stringify(i.data));
    } catch (err) {
      if (isUniqueViolation(err)) throw new DuplicateKeyError('that identity already belongs to a user');
      throw err;
    }
  }

  async moveIdentity(providerName: string, externalId: string, toUserId: string): Promise<void> {
    this.stmt.moveIdentity.run(toUserId, providerName, externalId);
  }

  async getUserpass(emailKey: string): Promise<UserpassRecord | null> {
    const r = this.stmt.getUserpass.get(emailKey);
    return r ? toUserpass(r) : null;
  }

  async getUserpassByUser(userId: string): Promise<UserpassRecord | null> {
    const r = this.stmt.getUserpassByUser.get(userId);
    return r ? toUserpass(r) : null;
  }

  async listPendingUserpass(): Promise<UserpassRecord[]> {
    return this.stmt.listPendingUserpass.all().map(toUserpass);
  }

  async createUserpass(rec: UserpassRecord): Promise<void> {
    try {
      this.stmt.insertUserpass.run(rec.emailKey, rec.email, rec.credentialId, rec.userId, rec.passwordHash, rec.status, rec.createdAt);
    } catch (err) {
      if (isUniqueViolation(err)) throw new DuplicateKeyError('name already in use');
      throw err;
    }
  }

  async updateUserpass(emailKey: string, patch: { passwordHash?: string; status?: 'pending' | 'confirmed'; userId?: string }): Promise<void> {
    const sets: string[] = [];
    const args: unknown[] = [];
    if (patch.passwordHash !== undefined) {
      sets.push('password_hash = ?');
      args.push(patch.passwordHash);
    }
    if (patch.status !== undefined) {
      sets.push('status = ?');
      args.push(patch.status);
    }
    if (patch.userId !== undefined) {
      sets.push('user_id = ?');
      args.push(patch.userId);
    }
    if (sets.length === 0) return;
    this.db.prepare(`UPDATE userpass SET ${sets.join(', ')} WHERE email_key = ?`).run(...args, emailKey);
  }

  async deleteUserpass(emailKey: string): Promise<void> {
    this.stmt.deleteUserpass.run(emailKey);
  }

  async putToken(t: UserpassToken): Promise<void> {
    this.stmt.pruneTokens.run(Date.now());
    this.stmt.insertToken.run(t.id, t.emailKey, t.kind, t.tokenHash, t.expiresAt);
  }

  async takeToken(id: string): Promise<UserpassToken | null> {
    const tx = this.db.transaction((tokenId: string) => {
      const r = this.stmt.getToken.get(tokenId);
      if (r) this.stmt.deleteToken.run(tokenId);
      return r;
    });
    const r = tx(id);
    return r ? { id: r.id, emailKey: r.email_key, kind: r.kind === 'reset' ? 'reset' : 'confirm', tokenHash: r.token_hash, expiresAt: r.expires_at } : null;
  }

  async createApiKey(key: ApiKeyRecord, keyHash: string): Promise<void> {
    try {
      this.stmt.insertApiKey.run(key.id, key.name, key.kind, key.userId, keyHash, key.createdAt, key.kind === 'server' ? '' : key.userId);
    } catch (err) {
      if (isUniqueViolation(err)) throw new DuplicateKeyError(`an API key named "${key.name}" already exists`);
      throw err;
    }
  }

  async findApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | null> {
    const r = this.stmt.apiKeyByHash.get(keyHash);
    return r ? toApiKey(r) : null;
  }

  async getApiKey(id: string): Promise<ApiKeyRecord | null> {
    const r = this.stmt.apiKeyById.get(id);
    return r ? toApiKey(r) : null;
  }

  async listApiKeys(filter: { kind?: 'server' | 'user'; userId?: string }): Promise<ApiKeyRecord[]> {
    const rows = filter.userId !== undefined ? this.stmt.listApiKeysOfUser.all(filter.userId) : this.stmt.listApiKeysOfKind.all(filter.kind ?? 'server').concat(filter.kind === undefined ? this.stmt.listApiKeysOfKind.all('user') : []);
    return rows.map(toApiKey).filter((k) => filter.kind === undefined || k.kind === filter.kind);
  }

  async setApiKeyDisabled(id: string, disabled: boolean): Promise<boolean> {
    const tx = this.db.transaction(() => {
      const changed = this.stmt.setApiKeyDisabled.run(disabled ? 1 : 0, id).changes > 0;
      const key = this.stmt.apiKeyById.get(id);
      // A server key is its user: disabling the key disables the user (and so its open sessions).
      if (key && key.kind === 'server') this.stmt.setDisabled.run(disabled ? 1 : 0, key.user_id);
      return changed;
    });
    return tx();
  }

  async deleteApiKey(id: string): Promise<boolean> {
    const tx = this.db.transaction(() => {
      const key = this.stmt.apiKeyById.get(id);
      if (!key) return false;
      this.stmt.deleteApiKey.run(id);
      if (key.kind === 'server') {
        this.stmt.deleteIdentities.run(key.user_id);
        this.stmt.deleteSessionsOfUser.run(key.user_id);
        this.stmt.deleteUser.run(key.user_id);
      }
      return true;
    });
    return tx();
  }

  async createSession(s: SessionRecord): Promise<void> {
    this.stmt.insertSession.run(s.id, s.userId, s.providerName, s.providerType, s.identityId, s.deviceId, s.createdAt, s.expiresAt);
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    const r = this.stmt.getSession.get(id);
    return r ? toSession(r) : null;
  }

  async deleteSession(id: string): Promise<boolean> {
    return this.stmt.deleteSession.run(id).changes > 0;
  }

  async deleteSessionsOfUser(userId: string): Promise<number> {
    return this.stmt.deleteSessionsOfUser.run(userId).changes;
  }

  async getOrCreateSecret(name: string, make: () => Buffer): Promise<Buffer> {
    const existing = this.stmt.getSecret.get(name);
    if (existing) return existing.value;
    // INSERT OR IGNORE then read back: when two instances start at once, both end up with the same value.
    this.stmt.insertSecret.run(name, make(), Date.now());
    const row = this.stmt.getSecret.get(name);
    if (!row) throw new Error(`could not store the platform secret "${name}"`);
    return row.value;
  }

  async recordFailure(key: string, at: number): Promise<void> {
    this.stmt.insertFailure.run(key, at);
    // Old rows are pruned now and then (a day is longer than any throttle window).
    if (++this.failuresSincePrune >= 500) {
      this.failuresSincePrune = 0;
      this.stmt.pruneFailures.run(at - 24 * 3600 * 1000);
      this.stmt.pruneSessions.run(at);
    }
  }

  async countFailures(key: string, since: number): Promise<{ count: number; oldest: number | null }> {
    const r = this.stmt.countFailures.get(key, since);
    return { count: r?.n ?? 0, oldest: r?.oldest ?? null };
  }

  async clearFailures(key: string): Promise<void> {
    this.stmt.clearFailures.run(key);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/** Opens (creating when needed) the embedded platform store of a data directory. */
export function openSqlitePlatformStore(dataDir: string): SqlitePlatformStore {
  return new SqlitePlatformStore(path.join(dataDir, PLATFORM_DB_FILE));
}
