// Access and refresh tokens (§9.3): HS256 JWTs signed with Atrium's own key, verified with jose with the algorithm,
// audience and required claims pinned. Both name their session (`iss`, as App Services' tokens did, plus `baas_id`
// on refresh tokens), so deleting the session revokes them; that check is the caller's (it needs the store).
//
// jose's verification costs ~100 µs here, so an access token that verified once is remembered (by its exact text)
// until it expires: the common case of a client reusing its token costs a Map lookup.
import { jwtVerify, SignJWT, errors as joseErrors } from 'jose';
import type { JWTPayload } from 'jose';
import type { AuthKeys } from './secrets';

const ZERO_ID = '000000000000000000000000';
const CACHE_LIMIT = 10_000;

export interface TokenClaims {
  userId: string;
  sessionId: string;
  deviceId: string;
  /** Seconds since the epoch. */
  exp: number;
}

export interface SessionTokenInput {
  userId: string;
  sessionId: string;
  deviceId: string;
  /** The app's internal id (ObjectId hex) when known; App Services put it in baas_domain_id. */
  domainId: string;
}

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; expired: boolean };

export class TokenService {
  private readonly verified = new Map<string, TokenClaims>();

  constructor(
    private readonly keys: AuthKeys,
    /** Expected `aud`: the client app id. */
    private readonly audience: string,
    readonly accessTtlSec: number,
    readonly refreshTtlSec: number,
  ) {}

  async issueAccess(s: SessionTokenInput, userData?: Record<string, unknown>): Promise<string> {
    const claims: JWTPayload = {
      typ: 'access',
      baas_device_id: s.deviceId,
      baas_domain_id: s.domainId || ZERO_ID,
      stitch_devId: s.deviceId,
      stitch_domainId: s.domainId || ZERO_ID,
    };
    if (userData !== undefined) claims.user_data = userData;
    return this.sign(claims, s, this.accessTtlSec);
  }

  async issueRefresh(s: SessionTokenInput, identity: { id: string; providerType: string; providerName: string }): Promise<string> {
    const claims: JWTPayload = {
      typ: 'refresh',
      baas_id: s.sessionId,
      baas_device_id: s.deviceId,
      baas_domain_id: s.domainId || ZERO_ID,
      baas_identity: { id: identity.id, provider_type: identity.providerType, provider_id: identity.providerName },
    };
    return this.sign(claims, s, this.refreshTtlSec);
  }

  private sign(claims: JWTPayload, s: SessionTokenInput, ttlSec: number): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: this.keys.tokenKid })
      .setSubject(s.userId)
      .setIssuer(s.sessionId)
      .setAudience(this.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSec)
      .sign(this.keys.tokenKey);
  }

  /** The claims of an access token that verified before and has not expired; undefined otherwise (no verification). */
  cachedAccess(token: string): TokenClaims | undefined {
    const hit = this.verified.get(token);
    return hit && hit.exp * 1000 > Date.now() ? hit : undefined;
  }

  verifyAccess(token: string): Promise<TokenCheck> {
    const hit = this.verified.get(token);
    if (hit) {
      if (hit.exp * 1000 > Date.now()) return Promise.resolve({ ok: true, claims: hit });
      this.verified.delete(token);
      return Promise.resolve({ ok: false, expired: true });
    }
    return this.verify(token, 'access').then((r) => {
      if (r.ok) {
        if (this.verified.size >= CACHE_LIMIT) this.verified.delete(this.verified.keys().next().value as string);
        this.verified.set(token, r.claims);
      }
      return r;
    });
  }

  verifyRefresh(token: string): Promise<TokenCheck> {
    return this.verify(token, 'refresh');
  }

  private async verify(token: string, typ: 'access' | 'refresh'): Promise<TokenCheck> {
    if (token.length > 16_384) return { ok: false, expired: false };
    try {
      const { payload, protectedHeader } = await jwtVerify(token, this.keys.tokenKey, {
        algorithms: ['HS256'],
        audience: this.audience,
        requiredClaims: ['exp', 'iat', 'sub', 'iss'],
        clockTolerance: 5,
      });
      if (protectedHeader.kid !== undefined && protectedHeader.kid !== this.keys.tokenKid) return { ok: false, expired: false };
      if (payload.typ !== typ) return { ok: false, expired: false };
      const deviceId = typeof payload.baas_device_id === 'string' ? payload.baas_device_id : ZERO_ID;
      return { ok: true, claims: { userId: String(payload.sub), sessionId: String(payload.iss), deviceId, exp: Number(payload.exp) } };
    } catch (err) {
      return { ok: false, expired: err instanceof joseErrors.JWTExpired };
    }
  }

  /** Forgets remembered access tokens of a session (after logout on this instance). */
  forgetSession(sessionId: string): void {
    for (const [token, claims] of this.verified) if (claims.sessionId === sessionId) this.verified.delete(token);
  }
}
