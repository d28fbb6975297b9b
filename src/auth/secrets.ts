// Key material Atrium generates for itself and keeps in the platform store (so every instance sharing the store
// uses the same): the token signing key and the pepper for API key hashes. Also the random strings handed out.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { PlatformStore } from '../platform';

export const TOKEN_KEY_SECRET = 'token-signing-key/v1';
export const API_KEY_PEPPER_SECRET = 'api-key-pepper/v1';

export interface AuthKeys {
  /** HS256 key for access and refresh tokens, and its key id (JWT `kid`). */
  tokenKey: Uint8Array;
  tokenKid: string;
  /** HMAC key for API key hashes. */
  apiKeyPepper: Buffer;
}

/** Loads (or creates on first start) the keys; `configuredSigningKey` (--signing-key) replaces the stored token key. */
export async function loadAuthKeys(store: PlatformStore, configuredSigningKey?: string): Promise<AuthKeys> {
  const apiKeyPepper = await store.getOrCreateSecret(API_KEY_PEPPER_SECRET, () => randomBytes(32));
  if (configuredSigningKey !== undefined) {
    if (configuredSigningKey.length < 32) throw new Error('the token signing key must be at least 32 characters long');
    const tokenKey = new Uint8Array(Buffer.from(configuredSigningKey, 'utf8'));
    return { tokenKey, tokenKid: keyId(tokenKey), apiKeyPepper };
  }
  const stored = await store.getOrCreateSecret(TOKEN_KEY_SECRET, () => randomBytes(64));
  const tokenKey = new Uint8Array(stored);
  return { tokenKey, tokenKid: keyId(tokenKey), apiKeyPepper };
}

/** A short, non-secret fingerprint of a key, used as `kid`. */
function keyId(key: Uint8Array): string {
  return createHash('sha256').update('atrium-kid').update(key).digest('base64url').slice(0, 16);
}

/** Keyed hash of an API key: cheap (a valid key costs one HMAC, not a password hash) and useless without the pepper. */
export function hashApiKey(pepper: Buffer, key: string): string {
  return createHmac('sha256', pepper).update(key, 'utf8').digest('hex');
}

/** Hash of a one-time confirmation/reset token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random string over [A-Za-z0-9] without modulo bias (API keys are 64 such characters, as in App Services). */
export function randomAlphanumeric(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      // 248 = 4 * 62: reject the top bytes so every character is equally likely.
      if (b < 248) out += ALPHANUMERIC[b % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}
