// Sessions (§9.3): a login opens a session in the store and hands out a refresh token (long-lived) and an access
// token (short-lived), both naming the session. Refresh mints a new access token while the session lives; logout
// deletes the session, which revokes both tokens at once on every instance sharing the store.
//
// An endpoint called with a Bearer token needs its session and user on every request. They are remembered for a
// short time (default 1 s) so a busy client costs no store lookups; a logout or user deletion on this instance
// forgets them at once, and a change made elsewhere (another instance, the CLI) is seen within that time.
import { ObjectId } from 'bson';
import type { AppDefinition } from '../app/types';
import type { PlatformStore, SessionRecord } from '../platform';
import { AuthError, invalidSession, userDisabled } from './errors';
import { Recent } from './recent';
import type { TokenService } from './tokens';
import type { LoadedUser, UserDirectory, VerifiedIdentity } from './users';

export interface LoginResult {
  access_token: string;
  refresh_token: string;
  user_id: string;
  device_id: string;
}

export interface SessionUser {
  loaded: LoadedUser;
  session: SessionRecord;
}

const HEX24 = /^[0-9a-f]{24}$/;
const ZERO_ID = '000000000000000000000000';

export const accessTokenExpired = (): AuthError => invalidSession('access token expired');
export const refreshTokenUnknown = (): AuthError => invalidSession('failed to find refresh token');

const RECENT_LIMIT = 10_000;

export class SessionManager {
  /** Sessions (by id) checked within the last `recentMs`, with their user. */
  private readonly recent: Recent<SessionUser>;

  constructor(
    private readonly app: AppDefinition,
    private readonly store: PlatformStore,
    private readonly tokens: TokenService,
    private readonly users: UserDirectory,
    /** How long a looked-up session and user are reused for access tokens (0 = always read the store). */
    recentMs = 1000,
  ) {
    this.recent = new Recent(recentMs, RECENT_LIMIT);
  }

  /** Opens a session for a user who just proved an identity. `deviceId` from the SDK's login options, if any. */
  async open(loaded: LoadedUser, via: VerifiedIdentity, deviceId?: string): Promise<LoginResult> {
    if (loaded.user.disabled) throw userDisabled();
    const now = Date.now();
    const device = deviceId && HEX24.test(deviceId) && deviceId !== ZERO_ID ? deviceId : new ObjectId().toHexString();
    const session: SessionRecord = {
      id: new ObjectId().toHexString(),
      userId: loaded.user.id,
      providerName: via.providerName,
      providerType: via.providerType,
      identityId: via.externalId,
      deviceId: device,
      createdAt: now,
      expiresAt: now + this.tokens.refreshTtlSec * 1000,
    };
    await this.store.createSession(session);
    await this.store.updateUser(loaded.user.id, { lastLoginAt: now });
    const input = this.tokenInput(session);
    const userData = this.users.customDataEnabled ? await this.users.customDataOf(loaded.user.id) : undefined;
    return {
      access_token: await this.tokens.issueAccess(input, userData),
      refresh_token: await this.tokens.issueRefresh(input, { id: via.externalId, providerType: via.providerType, providerName: via.providerName }),
      user_id: loaded.user.id,
      device_id: device,
    };
  }

  /** POST /auth/session: a new access token (custom user data re-read, as App Services did on refresh). */
  async refresh(refreshToken: string): Promise<string> {
    const { loaded, session } = await this.fromRefresh(refreshToken);
    const userData = this.users.customDataEnabled ? await this.users.customDataOf(loaded.user.id) : undefined;
    return this.tokens.issueAccess(this.tokenInput(session), userData);
  }

  /** A fresh access token for an open session (after linking an identity to it). */
  async accessFor(su: SessionUser): Promise<Omit<LoginResult, 'refresh_token'> & { refresh_token: null }> {
    this.forgetUser(su.loaded.user.id);
    const userData = this.users.customDataEnabled ? await this.users.customDataOf(su.loaded.user.id) : undefined;
    return { access_token: await this.tokens.issueAccess(this.tokenInput(su.session), userData), refresh_token: null, user_id: su.loaded.user.id, device_id: su.session.deviceId };
  }

  /** DELETE /auth/session. */
  async logout(refreshToken: string): Promise<void> {
    const check = await this.tokens.verifyRefresh(refreshToken);
    if (!check.ok) throw refreshTokenUnknown();
    const deleted = await this.store.deleteSession(check.claims.sessionId);
    this.forgetSession(check.claims.sessionId);
    if (!deleted) throw refreshTokenUnknown();
  }

  /**
   * The session and user of an access token when both were checked within the last `recentMs` (what fromAccess
   * would answer from its cache), without a promise; undefined when fromAccess must look.
   */
  recentFromAccess(accessToken: string): SessionUser | undefined {
    const claims = this.tokens.cachedAccess(accessToken);
    if (!claims) return undefined;
    const hit = this.recent.get(claims.sessionId);
    return hit && hit.loaded.user.id === claims.userId ? hit : undefined;
  }

  /** The live session and user behind an access token; 401 InvalidSession otherwise. */
  async fromAccess(accessToken: string): Promise<SessionUser> {
    const check = await this.tokens.verifyAccess(accessToken);
    if (!check.ok) throw check.expired ? accessTokenExpired() : invalidSession('invalid access token');
    const { sessionId, userId } = check.claims;
    const hit = this.recent.get(sessionId);
    if (hit && hit.loaded.user.id === userId) return hit;
    const su = await this.live(sessionId, userId, 'access token revoked');
    this.recent.set(sessionId, su);
    return su;
  }

  /** Forgets what this instance remembers about a session (after logout). */
  forgetSession(sessionId: string): void {
    this.recent.delete(sessionId);
    this.tokens.forgetSession(sessionId);
  }

  /** Forgets every remembered session of a user (after deletion or disabling). */
  forgetUser(userId: string): void {
    for (const id of this.recent.keysWhere((su) => su.loaded.user.id === userId)) this.forgetSession(id);
  }

  async fromRefresh(refreshToken: string): Promise<SessionUser> {
    const check = await this.tokens.verifyRefresh(refreshToken);
    if (!check.ok) throw check.expired ? invalidSession('refresh token expired') : refreshTokenUnknown();
    return this.live(check.claims.sessionId, check.claims.userId, 'failed to find refresh token');
  }

  /** Either token type (the user API key routes accept both). */
  async fromAnyToken(token: string): Promise<SessionUser> {
    const access = await this.tokens.verifyAccess(token);
    if (access.ok) return this.live(access.claims.sessionId, access.claims.userId, 'access token revoked');
    return this.fromRefresh(token);
  }

  private async live(sessionId: string, userId: string, goneMessage: string): Promise<SessionUser> {
    const session = await this.store.getSession(sessionId);
    if (!session || session.userId !== userId || session.expiresAt < Date.now()) throw invalidSession(goneMessage);
    const loaded = await this.users.load(userId);
    if (!loaded) throw invalidSession(goneMessage);
    if (loaded.user.disabled) throw userDisabled();
    return { loaded, session };
  }

  private tokenInput(session: SessionRecord): { userId: string; sessionId: string; deviceId: string; domainId: string } {
    return { userId: session.userId, sessionId: session.id, deviceId: session.deviceId, domainId: HEX24.test(this.app.internalId) ? this.app.internalId : '' };
  }
}
