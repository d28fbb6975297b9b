// `utils.jwt` (§11.4), on node:crypto.
// encode: header {"alg","typ":"JWT", ...customHeaderFields}; the payload is written as relaxed EJSON (numbers stay
// numbers, as the docs token shows). HS* sign with the secret string's UTF-8 bytes; RS*/PS*/ES* take a PKCS#8
// (or PKCS#1/SEC1) private key PEM.
// decode: verifies the signature; refuses `alg: none`, algorithms outside acceptedSigningMethods, an HMAC
// algorithm with a PEM key (RS/HS confusion), and expired (`exp`) or not-yet-valid (`nbf`) tokens.

import * as nodeCrypto from 'node:crypto';
import { parseEJSON, stringifyEJSON } from './ejson';
import { inputBytes } from './crypto';

type Family = 'HS' | 'RS' | 'PS' | 'ES';
interface Alg {
  family: Family;
  hash: 'sha256' | 'sha384' | 'sha512';
  /** Curve for ES*, as node:crypto names it. */
  curve?: string;
  /** Bytes of r (and of s) in an ES* signature. */
  coordBytes?: number;
}

const ALGS: Record<string, Alg> = {
  HS256: { family: 'HS', hash: 'sha256' },
  HS384: { family: 'HS', hash: 'sha384' },
  HS512: { family: 'HS', hash: 'sha512' },
  RS256: { family: 'RS', hash: 'sha256' },
  RS384: { family: 'RS', hash: 'sha384' },
  RS512: { family: 'RS', hash: 'sha512' },
  PS256: { family: 'PS', hash: 'sha256' },
  PS384: { family: 'PS', hash: 'sha384' },
  PS512: { family: 'PS', hash: 'sha512' },
  ES256: { family: 'ES', hash: 'sha256', curve: 'prime256v1', coordBytes: 32 },
  ES384: { family: 'ES', hash: 'sha384', curve: 'secp384r1', coordBytes: 48 },
  ES512: { family: 'ES', hash: 'sha512', curve: 'secp521r1', coordBytes: 66 },
};
const HASH_BYTES = { sha256: 32, sha384: 48, sha512: 64 } as const;

function algOf(name: unknown, fn: string): Alg {
  const alg = typeof name === 'string' ? ALGS[name] : undefined;
  if (!alg) {
    throw new TypeError(`${fn}: unsupported signing method ${JSON.stringify(name) ?? String(name)}; use one of ${Object.keys(ALGS).join(', ')}`);
  }
  return alg;
}

function b64url(bytes: Buffer | string): string {
  return Buffer.from(bytes).toString('base64url');
}

const B64URL_RE = /^[A-Za-z0-9_-]*$/;

function fromB64url(part: string, fn: string, what: string): Buffer {
  if (!B64URL_RE.test(part)) throw new Error(`${fn}: the token's ${what} is not base64url`);
  return Buffer.from(part, 'base64url');
}

function looksLikePem(s: string): boolean {
  return s.includes('-----BEGIN');
}

function asymmetricKey(key: unknown, kind: 'private' | 'public', alg: Alg, name: string, fn: string): nodeCrypto.KeyObject {
  if (typeof key !== 'string') throw new TypeError(`${fn}: ${name} needs a PEM ${kind} key string`);
  let k: nodeCrypto.KeyObject;
  try {
    k = kind === 'private' ? nodeCrypto.createPrivateKey(key) : nodeCrypto.createPublicKey(key);
  } catch (e) {
    throw new TypeError(`${fn}: the ${kind} key for ${name} could not be read: ${(e as Error).message}`);
  }
  const type = k.asymmetricKeyType;
  if (alg.family === 'ES') {
    if (type !== 'ec' || k.asymmetricKeyDetails?.namedCurve !== alg.curve) {
      throw new TypeError(`${fn}: ${name} needs an EC key on curve ${alg.curve}`);
    }
  } else if (type !== 'rsa' && type !== 'rsa-pss') {
    throw new TypeError(`${fn}: ${name} needs an RSA key`);
  }
  return k;
}

function signingInput(headerB64: string, payloadB64: string): Buffer {
  return Buffer.from(`${headerB64}.${payloadB64}`, 'ascii');
}

function signBytes(alg: Alg, name: string, data: Buffer, secret: unknown, fn: string): Buffer {
  switch (alg.family) {
    case 'HS':
      return nodeCrypto.createHmac(alg.hash, inputBytes(secret, fn, 'secret')).update(data).digest();
    case 'RS':
      return nodeCrypto.sign(alg.hash, data, { key: asymmetricKey(secret, 'private', alg, name, fn), padding: nodeCrypto.constants.RSA_PKCS1_PADDING });
    case 'PS':
      return nodeCrypto.sign(alg.hash, data, {
        key: asymmetricKey(secret, 'private', alg, name, fn),
        padding: nodeCrypto.constants.RSA_PKCS1_PSS_PADDING,
        saltLength: HASH_BYTES[alg.hash], // RFC 7518 §3.5
      });
    case 'ES':
      return nodeCrypto.sign(alg.hash, data, { key: asymmetricKey(secret, 'private', alg, name, fn), dsaEncoding: 'ieee-p1363' });
  }
}

function verifyBytes(alg: Alg, name: string, data: Buffer, sig: Buffer, key: unknown, fn: string): boolean {
  switch (alg.family) {
    case 'HS': {
      if (typeof key === 'string' && looksLikePem(key)) {
        throw new Error(`${fn}: the token says ${name} but the key is a PEM key; refusing (algorithm confusion)`);
      }
      const expected = nodeCrypto.createHmac(alg.hash, inputBytes(key, fn, 'key')).update(data).digest();
      return expected.length === sig.length && nodeCrypto.timingSafeEqual(expected, sig);
    }
    case 'RS':
      return nodeCrypto.verify(alg.hash, data, { key: asymmetricKey(key, 'public', alg, name, fn), padding: nodeCrypto.constants.RSA_PKCS1_PADDING }, sig);
    case 'PS':
      return nodeCrypto.verify(alg.hash, data, {
        key: asymmetricKey(key, 'public', alg, name, fn),
        padding: nodeCrypto.constants.RSA_PKCS1_PSS_PADDING,
        saltLength: nodeCrypto.constants.RSA_PSS_SALTLEN_AUTO,
      }, sig);
    case 'ES':
      if (sig.length !== 2 * alg.coordBytes!) return false;
      return nodeCrypto.verify(alg.hash, data, { key: asymmetricKey(key, 'public', alg, name, fn), dsaEncoding: 'ieee-p1363' }, sig);
  }
}

function encode(signingMethod: unknown, payload: unknown, secret: unknown, customHeaderFields?: unknown): string {
  const fn = 'utils.jwt.encode';
  const alg = algOf(signingMethod, fn);
  const name = signingMethod as string;
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw new TypeError(`${fn}: payload must be an object`);
  const header: Record<string, unknown> = { alg: name, typ: 'JWT' };
  if (customHeaderFields !== undefined && customHeaderFields !== null) {
    if (typeof customHeaderFields !== 'object' || Array.isArray(customHeaderFields)) throw new TypeError(`${fn}: customHeaderFields must be an object`);
    for (const [k, v] of Object.entries(customHeaderFields)) {
      if (k === 'alg' && v !== name) throw new TypeError(`${fn}: customHeaderFields.alg (${String(v)}) contradicts the signing method ${name}`);
      header[k] = v;
    }
  }
  const headerB64 = b64url(stringifyEJSON(header, 'relaxed')!);
  const payloadB64 = b64url(stringifyEJSON(payload, 'relaxed')!);
  const sig = signBytes(alg, name, signingInput(headerB64, payloadB64), secret, fn);
  return `${headerB64}.${payloadB64}.${b64url(sig)}`;
}

function parseJSONPart(part: string, fn: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = parseEJSON(fromB64url(part, fn, what).toString('utf8'));
  } catch (e) {
    throw new Error(`${fn}: the token's ${what} is not valid JSON: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${fn}: the token's ${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

function decode(jwt: unknown, key: unknown, returnHeader?: unknown, acceptedSigningMethods?: unknown): unknown {
  const fn = 'utils.jwt.decode';
  if (typeof jwt !== 'string') throw new TypeError(`${fn}: the token must be a string`);
  const parts = jwt.split('.');
  if (parts.length !== 3) throw new Error(`${fn}: a signed JWT has three dot-separated parts, this one has ${parts.length}`);
  const [h, p, s] = parts as [string, string, string];
  const header = parseJSONPart(h, fn, 'header');
  const name = header.alg;
  if (typeof name !== 'string' || name.toLowerCase() === 'none') throw new Error(`${fn}: unsigned tokens (alg "none") are refused`);
  if (acceptedSigningMethods !== undefined && acceptedSigningMethods !== null) {
    if (!Array.isArray(acceptedSigningMethods)) throw new TypeError(`${fn}: acceptedSigningMethods must be an array of strings`);
    if (!acceptedSigningMethods.includes(name)) {
      throw new Error(`${fn}: the token is signed with ${name}, which is not in acceptedSigningMethods (${acceptedSigningMethods.join(', ')})`);
    }
  }
  const alg = algOf(name, fn);
  const sig = fromB64url(s, fn, 'signature');
  if (!verifyBytes(alg, name, signingInput(h, p), sig, key, fn)) throw new Error(`${fn}: signature is invalid`);
  const payload = parseJSONPart(p, fn, 'payload');
  const now = Date.now() / 1000;
  if (typeof payload.exp === 'number' && now >= payload.exp) throw new Error(`${fn}: token is expired`);
  if (typeof payload.nbf === 'number' && now < payload.nbf) throw new Error(`${fn}: token is not valid yet (nbf)`);
  return returnHeader === true ? { header, payload } : payload;
}

export function createJwtUtils(): Readonly<Record<string, Function>> {
  return Object.freeze({ encode, decode });
}
