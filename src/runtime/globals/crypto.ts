// `utils.crypto` (§11.4), on node:crypto.
// Formats verified against the App Services docs examples (see test/globals/crypto.test.ts):
// AES = AES-GCM, key = the key string's UTF-8 bytes (16/24/32), output = 12-byte nonce ‖ ciphertext ‖ 16-byte tag.
// RSA signatures use SHA-256; PSS signs with the largest salt (Go's and Node's default) and verifies any salt length.

import * as nodeCrypto from 'node:crypto';
import { Binary } from 'bson';
import { bsonTypeOf, bytesOf } from './values';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Bytes of a string (UTF-8), a BSON.Binary or a Uint8Array; anything else is a clear TypeError. */
export function inputBytes(value: unknown, fn: string, what: string): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value !== null && typeof value === 'object') {
    if (bsonTypeOf(value) === 'Binary') {
      const b = value as Binary;
      return Buffer.from(b.buffer.buffer, b.buffer.byteOffset, b.position);
    }
    const bytes = bytesOf(value);
    if (bytes) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  throw new TypeError(`${fn}: ${what} must be a string or a BSON.Binary, got ${value === null ? 'null' : typeof value}`);
}

function pick(value: unknown, allowed: readonly string[], fn: string, what: string): string {
  const v = typeof value === 'string' ? value.toLowerCase() : value;
  if (typeof v !== 'string' || !allowed.includes(v)) {
    throw new TypeError(`${fn}: ${what} must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${JSON.stringify(value) ?? String(value)}`);
  }
  return v;
}

function aesKey(key: unknown, fn: string): Buffer {
  const bytes = inputBytes(key, fn, 'key');
  if (bytes.length !== 16 && bytes.length !== 24 && bytes.length !== 32) {
    throw new RangeError(`${fn}: an AES key must be 16, 24 or 32 bytes long (its UTF-8 bytes), got ${bytes.length}`);
  }
  return bytes;
}

function encrypt(encryptionType: unknown, message: unknown, key: unknown): Binary {
  const fn = 'utils.crypto.encrypt';
  pick(encryptionType, ['aes'], fn, 'encryptionType');
  const k = aesKey(key, fn);
  const nonce = nodeCrypto.randomBytes(NONCE_BYTES);
  const cipher = nodeCrypto.createCipheriv(`aes-${k.length * 8}-gcm`, k, nonce) as nodeCrypto.CipherGCM;
  const body = Buffer.concat([cipher.update(inputBytes(message, fn, 'message')), cipher.final()]);
  return new Binary(Buffer.concat([nonce, body, cipher.getAuthTag()]));
}

function decrypt(encryptionType: unknown, encrypted: unknown, key: unknown): Binary {
  const fn = 'utils.crypto.decrypt';
  pick(encryptionType, ['aes'], fn, 'encryptionType');
  const k = aesKey(key, fn);
  if (typeof encrypted === 'string') {
    throw new TypeError(`${fn}: the encrypted message must be a BSON.Binary (use BSON.Binary.fromBase64(text) for base64 text)`);
  }
  const data = inputBytes(encrypted, fn, 'encrypted message');
  if (data.length < NONCE_BYTES + TAG_BYTES) {
    throw new RangeError(`${fn}: the encrypted message is ${data.length} bytes; it must hold a 12-byte nonce and a 16-byte tag`);
  }
  const decipher = nodeCrypto.createDecipheriv(`aes-${k.length * 8}-gcm`, k, data.subarray(0, NONCE_BYTES)) as nodeCrypto.DecipherGCM;
  decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
  try {
    return new Binary(Buffer.concat([decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)), decipher.final()]));
  } catch {
    throw new Error(`${fn}: the message could not be authenticated (wrong key, or the data was altered)`);
  }
}

function rsaKey(pem: unknown, kind: 'private' | 'public', fn: string): nodeCrypto.KeyObject {
  if (typeof pem !== 'string') throw new TypeError(`${fn}: the ${kind} key must be a PEM string`);
  let key: nodeCrypto.KeyObject;
  try {
    key = kind === 'private' ? nodeCrypto.createPrivateKey(pem) : nodeCrypto.createPublicKey(pem);
  } catch (e) {
    throw new TypeError(`${fn}: the ${kind} key could not be read (expected PEM "-----BEGIN RSA ${kind.toUpperCase()} KEY-----"): ${(e as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'rsa') throw new TypeError(`${fn}: the ${kind} key is not an RSA key`);
  return key;
}

function rsaPadding(scheme: unknown, fn: string): number {
  const s = scheme === undefined || scheme === null ? 'pss' : pick(scheme, ['pss', 'pkcs1v15'], fn, 'signatureScheme');
  return s === 'pss' ? nodeCrypto.constants.RSA_PKCS1_PSS_PADDING : nodeCrypto.constants.RSA_PKCS1_PADDING;
}

function sign(encryptionType: unknown, message: unknown, privateKey: unknown, signatureScheme?: unknown): Binary {
  const fn = 'utils.crypto.sign';
  pick(encryptionType, ['rsa'], fn, 'encryptionType');
  const padding = rsaPadding(signatureScheme, fn);
  const key = rsaKey(privateKey, 'private', fn);
  const sig = nodeCrypto.sign('sha256', inputBytes(message, fn, 'message'), {
    key,
    padding,
    saltLength: nodeCrypto.constants.RSA_PSS_SALTLEN_MAX_SIGN,
  });
  return new Binary(sig);
}

function verify(encryptionType: unknown, message: unknown, publicKey: unknown, signature: unknown, signatureScheme?: unknown): boolean {
  const fn = 'utils.crypto.verify';
  pick(encryptionType, ['rsa'], fn, 'encryptionType');
  const padding = rsaPadding(signatureScheme, fn);
  const key = rsaKey(publicKey, 'public', fn);
  const sig = inputBytes(signature, fn, 'signature');
  try {
    return nodeCrypto.verify('sha256', inputBytes(message, fn, 'message'), {
      key,
      padding,
      saltLength: nodeCrypto.constants.RSA_PSS_SALTLEN_AUTO,
    }, sig);
  } catch {
    return false; // e.g. a signature of the wrong length: not valid, not an error
  }
}

function hmac(input: unknown, secret: unknown, hashFunction: unknown, outputFormat: unknown): string {
  const fn = 'utils.crypto.hmac';
  const algo = pick(hashFunction, ['sha1', 'sha256', 'sha512'], fn, 'hash_function');
  const format = pick(outputFormat, ['hex', 'base64'], fn, 'output_format') as 'hex' | 'base64';
  return nodeCrypto.createHmac(algo, inputBytes(secret, fn, 'secret')).update(inputBytes(input, fn, 'input')).digest(format);
}

function hash(hashFunction: unknown, input: unknown): Binary {
  const fn = 'utils.crypto.hash';
  const algo = pick(hashFunction, ['sha1', 'sha256', 'md5'], fn, 'hash_function');
  return new Binary(nodeCrypto.createHash(algo).update(inputBytes(input, fn, 'input')).digest());
}

export function createCryptoUtils(): Readonly<Record<string, Function>> {
  return Object.freeze({ encrypt, decrypt, sign, verify, hmac, hash });
}
