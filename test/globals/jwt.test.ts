import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as nodeCrypto from 'node:crypto';
import * as jose from 'jose';
import { createUtilsGlobal } from '../../src/runtime/globals/utils';

const jwt = createUtilsGlobal().jwt as Record<string, (...args: unknown[]) => any>;

// From the App Services docs (functions/globals.txt): HS512 with the secret "SuperSecret". The token's payload
// says "Joe Schmoe" (the docs' input snippet says "Joe Example", which does not match the printed token).
const DOCS_TOKEN =
  'eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvZSBTY2htb2UiLCJpYXQiOjE1NjU3MjEyMjMxODd9.-QL15ldu2BYuJokNWT6YRiwZQIiIpvq6Kyv-C6qslNdNiUVxo8zqLJZ1iEkNf2yZKMIrQuMCtIC1tzd2H31AxA';
const DOCS_PAYLOAD = { sub: '1234567890', name: 'Joe Schmoe', iat: 1565721223187 };

test('encode reproduces the docs HS512 token byte for byte', () => {
  assert.equal(jwt.encode('HS512', DOCS_PAYLOAD, 'SuperSecret'), DOCS_TOKEN);
});

test('decode verifies the docs token and returns the payload (or header + payload)', () => {
  assert.deepEqual(jwt.decode(DOCS_TOKEN, 'SuperSecret', false, ['HS512']), DOCS_PAYLOAD);
  assert.deepEqual(jwt.decode(DOCS_TOKEN, 'SuperSecret', true), { header: { alg: 'HS512', typ: 'JWT' }, payload: DOCS_PAYLOAD });
  assert.throws(() => jwt.decode(DOCS_TOKEN, 'WrongSecret'), /signature is invalid/);
  assert.throws(() => jwt.decode(DOCS_TOKEN, 'SuperSecret', false, ['HS256']), /not in acceptedSigningMethods/);
  const tampered = DOCS_TOKEN.replace('eyJzdWIiOiIxMjM0NTY3ODkw', 'eyJzdWIiOiIxMjM0NTY3ODkx');
  assert.throws(() => jwt.decode(tampered, 'SuperSecret'), /signature is invalid/);
});

test('decode refuses alg none, RS/HS confusion, expired and not-yet-valid tokens', () => {
  const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.`;
  assert.throws(() => jwt.decode(none, 'k'), /alg "none"/);
  const { publicKey } = nodeCrypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  // An attacker signs HS256 with the public key's PEM text as the HMAC secret.
  const forged = jwt.encode('HS256', { sub: 'admin' }, pem);
  assert.throws(() => jwt.decode(forged, pem), /algorithm confusion/);
  const now = Math.floor(Date.now() / 1000);
  assert.throws(() => jwt.decode(jwt.encode('HS256', { exp: now - 10 }, 's'), 's'), /expired/);
  assert.throws(() => jwt.decode(jwt.encode('HS256', { nbf: now + 600 }, 's'), 's'), /not valid yet/);
  assert.deepEqual(jwt.decode(jwt.encode('HS256', { exp: now + 600 }, 's'), 's'), { exp: now + 600 });
  assert.throws(() => jwt.decode('a.b', 's'), /three dot-separated parts/);
  assert.throws(() => jwt.encode('HS999', {}, 's'), /unsupported signing method "HS999"/);
});

test('custom header fields are added; alg cannot be contradicted', async () => {
  const token = jwt.encode('HS256', { a: 1 }, 'secret', { kid: 'key-1' });
  const { header } = jwt.decode(token, 'secret', true);
  assert.deepEqual(header, { alg: 'HS256', typ: 'JWT', kid: 'key-1' });
  assert.throws(() => jwt.encode('HS256', {}, 's', { alg: 'none' }), /contradicts/);
  // Independent check with jose.
  const verified = await jose.jwtVerify(token, new TextEncoder().encode('secret'));
  assert.equal(verified.protectedHeader.kid, 'key-1');
  assert.equal(verified.payload.a, 1);
});

for (const [alg, kind, opts] of [
  ['RS256', 'rsa', { modulusLength: 2048 }],
  ['RS512', 'rsa', { modulusLength: 2048 }],
  ['PS256', 'rsa', { modulusLength: 2048 }],
  ['PS384', 'rsa', { modulusLength: 2048 }],
  ['ES256', 'ec', { namedCurve: 'prime256v1' }],
  ['ES384', 'ec', { namedCurve: 'secp384r1' }],
  ['ES512', 'ec', { namedCurve: 'secp521r1' }],
] as const) {
  test(`${alg}: our token verifies with jose, jose's token verifies with ours`, async () => {
    const { privateKey, publicKey } = nodeCrypto.generateKeyPairSync(kind as 'rsa', opts as nodeCrypto.RSAKeyPairOptions<'pem', 'pem'>);
    const privPem = (privateKey as unknown as nodeCrypto.KeyObject).export({ type: 'pkcs8', format: 'pem' }) as string;
    const pubPem = (publicKey as unknown as nodeCrypto.KeyObject).export({ type: 'spki', format: 'pem' }) as string;
    const ours = jwt.encode(alg, { sub: 'u1', n: 5 }, privPem);
    const viaJose = await jose.jwtVerify(ours, await jose.importSPKI(pubPem, alg));
    assert.equal(viaJose.payload.sub, 'u1');
    assert.equal(viaJose.protectedHeader.alg, alg);
    const theirs = await new jose.SignJWT({ sub: 'u2' }).setProtectedHeader({ alg }).sign(await jose.importPKCS8(privPem, alg));
    assert.deepEqual(jwt.decode(theirs, pubPem, false, [alg]), { sub: 'u2' });
    // A token signed by another key is refused.
    const other = nodeCrypto.generateKeyPairSync(kind as 'rsa', opts as nodeCrypto.RSAKeyPairOptions<'pem', 'pem'>);
    const otherPub = (other.publicKey as unknown as nodeCrypto.KeyObject).export({ type: 'spki', format: 'pem' }) as string;
    assert.throws(() => jwt.decode(ours, otherPub), /signature is invalid/);
  });
}
