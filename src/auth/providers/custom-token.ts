// Custom JWT (§9.5 custom-token). The configured algorithm is the only one accepted (an HS512 token on an HS256
// provider, `alg: none`, or an RS header over an HMAC key are all refused by jose's `algorithms` pin); `exp`, `sub`
// and `aud` are required; `nbf` and `iat` in the future are refused beyond a small leeway (policies.md).
// Keys: HS256 uses the UTF-8 bytes of the signing-key secrets; RS256 uses PEM public keys (SPKI or X.509) held in
// those secrets, or a JWKS URI (then `kid` is required).
import { createRemoteJWKSet, decodeProtectedHeader, importSPKI, importX509, jwtVerify } from 'jose';
import type { CryptoKey, JWTPayload, JWTVerifyGetKey } from 'jose';
import type { AuthProviderDef } from '../../app/types';
import { AuthError } from '../errors';
import type { VerifiedIdentity } from '../users';
import type { ProviderContext } from './context';

const PROVIDER_TYPE = 'custom-token';
const LEEWAY_SEC = 10;
const MAX_TOKEN_LENGTH = 1_000_000;
const MAX_METADATA_LENGTH = 4096;

type Verifier = Uint8Array | CryptoKey | JWTVerifyGetKey;

const invalidToken = (why: string): AuthError => new AuthError(401, 'InvalidSession', `invalid session: invalid custom JWT: ${why}`);

interface MetadataField {
  required: boolean;
  path: string[];
  fieldName: string;
}

/** `a\.b.c` -> ["a.b", "c"]: dots escaped with a backslash belong to the key. */
function splitPath(name: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < name.length; i++) {
    if (name[i] === '\\' && name[i + 1] === '.') {
      cur += '.';
      i++;
    } else if (name[i] === '.') {
      out.push(cur);
      cur = '';
    } else cur += name[i];
  }
  out.push(cur);
  return out;
}

export class CustomTokenProvider {
  private readonly algorithm: 'HS256' | 'RS256';
  private verifiers: Promise<Verifier[]> | null = null;
  readonly problems: string[] = [];

  constructor(
    private readonly ctx: ProviderContext,
    readonly def: AuthProviderDef,
  ) {
    const alg = def.config.signingAlgorithm;
    this.algorithm = alg === 'RS256' ? 'RS256' : 'HS256';
    if (alg !== undefined && alg !== 'HS256' && alg !== 'RS256') this.problems.push(`auth provider "${def.name}": unsupported signingAlgorithm "${String(alg)}"; using HS256`);
  }

  private secretValues(): string[] {
    const names = this.def.secretConfig.signingKeys ?? this.def.secretConfig.signingKey;
    const list = Array.isArray(names) ? names : typeof names === 'string' ? [names] : [];
    const out: string[] = [];
    for (const n of list) {
      if (typeof n !== 'string') continue;
      // A missing secret is reported by the app loader; it simply verifies nothing here.
      const v = this.ctx.app.secrets[n];
      if (v !== undefined) out.push(v);
    }
    return out;
  }

  /** Imports the configured keys now (not for a JWK URI, which is fetched when first needed), so bad keys show at start. */
  async prepare(): Promise<void> {
    if (this.def.config.useJWKURI === true) return;
    await this.loadVerifiers();
  }

  private loadVerifiers(): Promise<Verifier[]> {
    this.verifiers ??= (async () => {
      if (this.def.config.useJWKURI === true) {
        const uri = this.def.config.jwkURI;
        if (typeof uri !== 'string' || uri === '') throw new AuthError(500, 'InternalServerError', 'custom-token: useJWKURI is set but jwkURI is empty');
        return [createRemoteJWKSet(new URL(uri))];
      }
      const secrets = this.secretValues();
      if (this.algorithm === 'HS256') return secrets.map((s) => new TextEncoder().encode(s));
      const keys: Verifier[] = [];
      for (const pem of secrets) {
        try {
          keys.push(pem.includes('BEGIN CERTIFICATE') ? await importX509(pem, 'RS256') : await importSPKI(pem, 'RS256'));
        } catch (err) {
          this.problems.push(`auth provider "${this.def.name}": a signing key is not an RSA public key in PEM form (${(err as Error).message})`);
        }
      }
      return keys;
    })();
    return this.verifiers;
  }

  private expectedAudiences(): string[] {
    const a = this.def.config.audience;
    const list = Array.isArray(a) ? a.filter((x): x is string => typeof x === 'string' && x !== '') : typeof a === 'string' && a !== '' ? [a] : [];
    return list.length > 0 ? list : [this.ctx.app.appId];
  }

  private metadataFields(): MetadataField[] {
    const out: MetadataField[] = [];
    for (const f of this.def.metadataFields) {
      if (typeof f !== 'object' || f === null) continue;
      const { name, required, field_name } = f as { name?: unknown; required?: unknown; field_name?: unknown };
      if (typeof name !== 'string' || name === '') continue;
      const path = splitPath(name);
      out.push({ required: required === true, path, fieldName: typeof field_name === 'string' && field_name !== '' ? field_name : path[path.length - 1] });
    }
    return out;
  }

  /** Verifies a token and returns its identity (`sub`) with the metadata fields as user data. */
  /** Valid tokens are not slowed by the throttle; invalid ones are counted per address (429 past the limit). */
  async verify(token: string, ip: string): Promise<VerifiedIdentity> {
    try {
      return await this.check(token);
    } catch (err) {
      if (err instanceof AuthError && err.status === 401) {
        await this.ctx.throttle.check(ip);
        await this.ctx.throttle.failed(ip);
      }
      throw err;
    }
  }

  private async check(token: string): Promise<VerifiedIdentity> {
    if (token.length > MAX_TOKEN_LENGTH) throw invalidToken('token too long');
    let header;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw invalidToken('malformed token');
    }
    if (header.alg !== this.algorithm) throw invalidToken(`expected alg ${this.algorithm}`);
    if (this.def.config.useJWKURI === true && typeof header.kid !== 'string') throw invalidToken('a kid header is required with a JWK URI');
    const verifiers = await this.loadVerifiers();
    if (verifiers.length === 0) throw new AuthError(500, 'InternalServerError', 'custom-token: no signing key is configured');
    let payload: JWTPayload | null = null;
    let lastError: unknown = null;
    for (const key of verifiers) {
      try {
        const opts = { algorithms: [this.algorithm], requiredClaims: ['exp', 'sub', 'aud'], clockTolerance: LEEWAY_SEC };
        const r = typeof key === 'function' ? await jwtVerify(token, key, opts) : await jwtVerify(token, key, opts);
        payload = r.payload;
        break;
      } catch (err) {
        lastError = err;
      }
    }
    if (!payload) throw invalidToken(lastError instanceof Error ? lastError.message : 'signature verification failed');
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.iat === 'number' && payload.iat > now + LEEWAY_SEC) throw invalidToken('"iat" is in the future');
    if (typeof payload.sub !== 'string' || payload.sub === '') throw invalidToken('"sub" must be a non-empty string');
    this.checkAudience(payload.aud);
    return { providerName: this.def.name, providerType: PROVIDER_TYPE, externalId: payload.sub, data: this.metadata(payload) };
  }

  private checkAudience(aud: unknown): void {
    const given = Array.isArray(aud) ? aud.filter((x): x is string => typeof x === 'string') : typeof aud === 'string' ? [aud] : [];
    const expected = this.expectedAudiences();
    const ok = this.def.config.requireAnyAudience === true ? expected.some((a) => given.includes(a)) : expected.every((a) => given.includes(a));
    if (!ok) throw invalidToken('"aud" does not match the provider audience');
  }

  private metadata(payload: JWTPayload): Record<string, unknown> {
    const data: Record<string, unknown> = {};
    for (const f of this.metadataFields()) {
      let cur: unknown = payload;
      for (const seg of f.path) cur = typeof cur === 'object' && cur !== null ? (cur as Record<string, unknown>)[seg] : undefined;
      if (cur === undefined || cur === null) {
        if (f.required) throw invalidToken(`required metadata field "${f.path.join('.')}" is missing`);
        continue;
      }
      if (JSON.stringify(cur).length > MAX_METADATA_LENGTH) throw invalidToken(`metadata field "${f.path.join('.')}" is longer than ${MAX_METADATA_LENGTH} characters`);
      data[f.fieldName] = cur;
    }
    return data;
  }
}
