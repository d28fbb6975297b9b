import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as nodeCrypto from 'node:crypto';
import * as bson from 'bson';
import { createUtilsGlobal } from '../../src/runtime/globals/utils';
import { createBSONGlobal } from '../../src/runtime/globals/bson';

const utils = createUtilsGlobal();
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const crypto = utils.crypto as Record<string, (...args: unknown[]) => any>;
/** bson's Binary with the App Services helpers the BSON global installs. */
type ASBinary = bson.Binary & { text(): string; toHex(): string; toBase64(): string };
const BSON = createBSONGlobal() as unknown as { Binary: { fromBase64(s: string): ASBinary } };

// The RSA key from the App Services docs (functions/globals.txt, utils.crypto.sign example).
const DOCS_RSA_PRIVATE = `-----BEGIN RSA PRIVATE KEY-----
MIICXAIBAAKBgQDVsEjse2qO4v3p8RM/q8Rqzloc1lee34yoYuKZ2cemuUu8Jpc7
KFO1+aJpXdbSPZNhGLdANn8f2oMIZ1R9hgEJRn/Qm/YyC4RPTGg55nzHqSlziNZJ
JAyEUyU7kx5+Kb6ktgojhk8ocZRkorM8FEylkrKzgSrfay0PcWHPsKlmeQIDAQAB
AoGAHlVK1L7kLmpMbuP4voYMeLjYE9XdVEEZf2GiFwLSE3mkJY44033y/Bb2lgxr
DScOf675fFUAEK59ATlhxfu6s6rgx+g9qQQ+mL74YZWPqiZHBPjyMRaBalDVC4QF
YJ+DopFcB8hY2ElXnbK70ALmVYNjw3RdmC97h0YfOsQcWW0CQQD18aeuPNicVnse
Ku22vvhvQYlabaQh4xdkEIxz1TthZj48f61wZwEMipYqOAc5XEtDlNnxgeipv0yF
RHstUjwXAkEA3m0Br/U/vC9evuXppWbONana08KLgfELyd3Uw9jG7VKJZTBH5mS8
7CB68aEF8egrJpo8Ss8BkWrvCxYDb4Y77wJAUlbOMZozVtvpKidrIFR9Lho91uWA
Hsw9h4W20AzibXBig7SnJ0uE4WMAdS/+0yhgFkceVCmO8E2YW8Gaj4jJjwJASxtg
AHy+ItuUEL4uIW4Pn8tVW0BMP3qX0niXyfI/ag/+2S5uePv3V3y4RzNqgH83Yved
+FziWKpVQdcTHeuj/QJBAJl1G3WFruk0llIoKKbKljaEiCm1WCTcuEPbdOtkJYvO
9ZYQg/fji70FERkq2KHtY7aLhCHzy0d4n9xgE/pjV+I=
-----END RSA PRIVATE KEY-----`;
// Its public half, as `openssl rsa -RSAPublicKey_out` prints it. (The public key printed in the docs differs from
// this in one character, "OI1kkx" vs "OI1kkk", so it is not the pair of the private key.)
const DOCS_RSA_PUBLIC = `-----BEGIN RSA PUBLIC KEY-----
MIGJAoGBANWwSOx7ao7i/enxEz+rxGrOWhzWV57fjKhi4pnZx6a5S7wmlzsoU7X5
omld1tI9k2EYt0A2fx/agwhnVH2GAQlGf9Cb9jILhE9MaDnmfMepKXOI1kkkDIRT
JTuTHn4pvqS2CiOGTyhxlGSiszwUTKWSsrOBKt9rLQ9xYc+wqWZ5AgMBAAE=
-----END RSA PUBLIC KEY-----`;
// Vectors made independently with OpenSSL 3.0 over "MongoDB is great!":
//   openssl dgst -sha256 -sign priv.pem msg | base64                      (PKCS#1 v1.5, deterministic)
//   openssl dgst -sha256 -sign priv.pem -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 msg | base64
const OPENSSL_PKCS1V15 =
  'DcxxPdfahx9xoDY7k3Oyej9OElgE6sORSfIxJ9OxW+/iBe7rMY1ZPhfYHzzEhoMPGaOjTmaUGYA5KniwWcRerLDWHp8MEkGF/ZXv6pN6t/FTmsm7kgGAwvk58Rfp+fMYujYiBxmB837afpFZ2OyU+GKjWuRFDOUgQGr9LoomkB4=';
const OPENSSL_PSS_SALT32 =
  'M3UDRjgqf3iASOzXQpHYqzafJ7jSmRVNDEXT9BIeQtZGRKzRgqZoa01dOzEsAZXWJaPvs9R+gafy+qTYbIf85hIlwwLyCVUU4c4uEFrec01OQV1XOMfQg3bqpLCR5ROWEsEhG0Kh1oniVAdYJvLqq2XZ2ifBNfMvZJjQxizwy8Y=';

test('hmac: docs vector', () => {
  assert.equal(crypto.hmac('hello!', 'super-secret', 'sha256', 'base64'), 'SUXd6PRMaTXXgBGaGsIHzaDWgTSa6C3D44lRGrvRak0=');
  assert.equal(
    crypto.hmac('hello!', 'super-secret', 'sha256', 'hex'),
    Buffer.from('SUXd6PRMaTXXgBGaGsIHzaDWgTSa6C3D44lRGrvRak0=', 'base64').toString('hex'),
  );
  assert.equal(crypto.hmac('hello!', 'super-secret', 'sha1', 'hex').length, 40);
  assert.equal(crypto.hmac('hello!', 'super-secret', 'sha512', 'base64').length, 88);
  assert.throws(() => crypto.hmac('a', 'b', 'md4', 'hex'), /hash_function must be one of "sha1", "sha256", "sha512"/);
  assert.throws(() => crypto.hmac('a', 'b', 'sha256', 'latin1'), /output_format/);
  assert.throws(() => crypto.hmac({}, 'b', 'sha256', 'hex'), /input must be a string or a BSON.Binary/);
});

test('hash: docs vector, Binary result, Binary input', () => {
  const h = crypto.hash('sha256', 'hello!');
  assert.ok((h as unknown) instanceof bson.Binary);
  assert.equal(h.toBase64(), 'zgYJL7lI2f+sfRo3bkBLJrdXW8wR7gWkYV/vT+w6MIs=');
  assert.equal(crypto.hash('sha256', new bson.Binary(Buffer.from('hello!'))).toBase64(), 'zgYJL7lI2f+sfRo3bkBLJrdXW8wR7gWkYV/vT+w6MIs=');
  assert.equal(crypto.hash('md5', '').toHex(), 'd41d8cd98f00b204e9800998ecf8427e');
  assert.equal(crypto.hash('sha1', 'abc').toHex(), 'a9993e364706816aba3e25717850c26c9cd0d89d');
  assert.throws(() => crypto.hash('sha512', 'x'), /hash_function/);
});

test('decrypt: the App Services docs ciphertext decrypts to "MongoDB is great!"', () => {
  const key = '603082712271C525E087BD999A4E0738';
  const docsCiphertext = BSON.Binary.fromBase64('WPBuIvJ6Bity43Uh822dW8QlVYVJaFUiDeUjlTiJXzptUuTYIKPlXekBQAJb');
  assert.equal(crypto.decrypt('aes', docsCiphertext, key).text(), 'MongoDB is great!');
  assert.throws(() => crypto.decrypt('aes', docsCiphertext, '603082712271C525E087BD999A4E0739'), /could not be authenticated/);
  assert.throws(() => crypto.decrypt('aes', 'WPBuIvJ6', key), /must be a BSON.Binary/);
  assert.throws(() => crypto.decrypt('aes', BSON.Binary.fromBase64('AAAA'), key), /12-byte nonce and a 16-byte tag/);
});

test('encrypt: nonce ‖ ciphertext ‖ tag, readable by plain node:crypto AES-GCM', () => {
  for (const key of ['0123456789abcdef', '0123456789abcdef01234567', '603082712271C525E087BD999A4E0738']) {
    const enc = crypto.encrypt('aes', 'MongoDB is great!', key);
    assert.ok((enc as unknown) instanceof bson.Binary);
    const bytes = Buffer.from(enc.toHex(), 'hex');
    assert.equal(bytes.length, 12 + 17 + 16);
    const d = nodeCrypto.createDecipheriv(`aes-${key.length * 8}-gcm`, Buffer.from(key), bytes.subarray(0, 12)) as nodeCrypto.DecipherGCM;
    d.setAuthTag(bytes.subarray(bytes.length - 16));
    assert.equal(Buffer.concat([d.update(bytes.subarray(12, bytes.length - 16)), d.final()]).toString(), 'MongoDB is great!');
    assert.equal(crypto.decrypt('aes', enc, key).text(), 'MongoDB is great!');
  }
  assert.notEqual(crypto.encrypt('aes', 'x', '0123456789abcdef').toHex(), crypto.encrypt('aes', 'x', '0123456789abcdef').toHex());
  assert.throws(() => crypto.encrypt('aes', 'x', 'short'), /16, 24 or 32 bytes long/);
  assert.throws(() => crypto.encrypt('des', 'x', '0123456789abcdef'), /encryptionType must be one of "aes"/);
});

test('sign/verify RSA: OpenSSL vectors with the docs key', () => {
  const msg = 'MongoDB is great!';
  // PKCS#1 v1.5 is deterministic: our signature must equal OpenSSL's byte for byte.
  assert.equal(crypto.sign('rsa', msg, DOCS_RSA_PRIVATE, 'pkcs1v15').toBase64(), OPENSSL_PKCS1V15);
  assert.equal(crypto.verify('rsa', msg, DOCS_RSA_PUBLIC, BSON.Binary.fromBase64(OPENSSL_PKCS1V15), 'pkcs1v15'), true);
  assert.equal(crypto.verify('rsa', 'MongoDB is great?', DOCS_RSA_PUBLIC, BSON.Binary.fromBase64(OPENSSL_PKCS1V15), 'pkcs1v15'), false);
  // PSS (the default scheme): OpenSSL's salt-32 signature verifies; ours uses the maximum salt length.
  assert.equal(crypto.verify('rsa', msg, DOCS_RSA_PUBLIC, BSON.Binary.fromBase64(OPENSSL_PSS_SALT32)), true);
  assert.equal(crypto.verify('rsa', msg, DOCS_RSA_PUBLIC, BSON.Binary.fromBase64(OPENSSL_PSS_SALT32), 'pkcs1v15'), false);
  const pss = crypto.sign('rsa', msg, DOCS_RSA_PRIVATE, 'pss');
  const pssBytes = Buffer.from(pss.toHex(), 'hex');
  assert.equal(pssBytes.length, 128);
  const maxSalt = 128 - 32 - 2;
  assert.equal(
    nodeCrypto.verify('sha256', Buffer.from(msg), { key: DOCS_RSA_PUBLIC, padding: nodeCrypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: maxSalt }, pssBytes),
    true,
  );
  assert.equal(crypto.verify('rsa', msg, DOCS_RSA_PUBLIC, crypto.sign('rsa', msg, DOCS_RSA_PRIVATE)), true);
  // A truncated signature is simply invalid.
  assert.equal(crypto.verify('rsa', msg, DOCS_RSA_PUBLIC, BSON.Binary.fromBase64('AAAA')), false);
  assert.throws(() => crypto.sign('rsa', msg, 'not a key'), /private key could not be read/);
  assert.throws(() => crypto.sign('rsa', msg, DOCS_RSA_PRIVATE, 'oaep'), /signatureScheme/);
  const ec = nodeCrypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  assert.throws(() => crypto.sign('rsa', msg, ec.privateKey.export({ type: 'pkcs8', format: 'pem' })), /not an RSA key/);
});

test('utils and its members are frozen', () => {
  assert.ok(Object.isFrozen(utils));
  assert.ok(Object.isFrozen(utils.crypto));
  assert.ok(Object.isFrozen(utils.jwt));
  assert.throws(() => {
    (utils.crypto as Record<string, unknown>).hmac = () => 'x';
  }, TypeError);
});
