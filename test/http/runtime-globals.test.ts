// Issue 3 items 1, 2, 4 and 6 through the real `atrium serve`: utils.crypto / utils.jwt against the spec's verified
// vectors (§11.4), the BSON and EJSON globals, context.user for a system call, the HTTPResponse global, and the
// semantics real apps depend on (arguments by reference, `throw new Error(obj)`, missing methods, sync/async,
// returned undefined). Fixture: test/fixtures/apps/runtime-app (copied without functions/package.json: no npm here).
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as nodeCrypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as jose from 'jose';
import { FIXTURES, startAtrium, tempDir } from '../helpers/server';
import type { RunningServer } from '../helpers/server';

const APP = path.join(FIXTURES, 'runtime-app');
let srv: RunningServer;
let appCopy: string;

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: () => any;
}

async function call(route: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(srv.endpointBase + route, { ...init, signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

function post(route: string, body: unknown): Promise<Answer> {
  return call(route, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
}

before(async () => {
  appCopy = tempDir('atrium-runtime-app-');
  fs.cpSync(APP, appCopy, { recursive: true });
  fs.rmSync(path.join(appCopy, 'functions', 'package.json'));
  srv = await startAtrium(appCopy, { args: ['--function-timeout-ms', '5000', '--workers', '2'] });
});

after(async () => {
  await srv?.stop();
  if (srv) fs.rmSync(srv.dataDir, { recursive: true, force: true });
  if (appCopy) fs.rmSync(appCopy, { recursive: true, force: true });
});

// §11.4 vectors (see also test/globals/crypto.test.ts for where each one comes from).
const DOCS_AES_CIPHERTEXT = 'WPBuIvJ6Bity43Uh822dW8QlVYVJaFUiDeUjlTiJXzptUuTYIKPlXekBQAJb';
const AES_KEY = '603082712271C525E087BD999A4E0738';
const OPENSSL_PKCS1V15 =
  'DcxxPdfahx9xoDY7k3Oyej9OElgE6sORSfIxJ9OxW+/iBe7rMY1ZPhfYHzzEhoMPGaOjTmaUGYA5KniwWcRerLDWHp8MEkGF/ZXv6pN6t/FTmsm7kgGAwvk58Rfp+fMYujYiBxmB837afpFZ2OyU+GKjWuRFDOUgQGr9LoomkB4=';
const OPENSSL_PSS_SALT32 =
  'M3UDRjgqf3iASOzXQpHYqzafJ7jSmRVNDEXT9BIeQtZGRKzRgqZoa01dOzEsAZXWJaPvs9R+gafy+qTYbIf85hIlwwLyCVUU4c4uEFrec01OQV1XOMfQg3bqpLCR5ROWEsEhG0Kh1oniVAdYJvLqq2XZ2ifBNfMvZJjQxizwy8Y=';
const DOCS_TOKEN =
  'eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvZSBTY2htb2UiLCJpYXQiOjE1NjU3MjEyMjMxODd9.-QL15ldu2BYuJokNWT6YRiwZQIiIpvq6Kyv-C6qslNdNiUVxo8zqLJZ1iEkNf2yZKMIrQuMCtIC1tzd2H31AxA';
const DOCS_PAYLOAD = { sub: '1234567890', name: 'Joe Schmoe', iat: 1565721223187 };

describe('utils.crypto (item 1, §11.4)', () => {
  test('hmac, hash, AES-GCM encrypt/decrypt and RSA sign/verify give the verified vectors', async () => {
    const q = new URLSearchParams({ docsCiphertext: DOCS_AES_CIPHERTEXT, opensslPss: OPENSSL_PSS_SALT32 });
    const r = await call(`/crypto?${q}`);
    assert.equal(r.status, 200, r.text);
    const c = r.json();
    const hmacHex = (alg: string): string => nodeCrypto.createHmac(alg, 'super-secret').update('hello!').digest('hex');
    assert.equal(c.hmacSha256Base64, 'SUXd6PRMaTXXgBGaGsIHzaDWgTSa6C3D44lRGrvRak0=');
    assert.equal(c.hmacSha1Hex, hmacHex('sha1'));
    assert.equal(c.hmacSha512Hex, hmacHex('sha512'));
    assert.equal(c.hashIsBinary, true);
    assert.equal(c.hashSha256Base64, 'zgYJL7lI2f+sfRo3bkBLJrdXW8wR7gWkYV/vT+w6MIs=');
    assert.equal(c.hashMd5EmptyHex, 'd41d8cd98f00b204e9800998ecf8427e');
    assert.equal(c.hashSha1OfBinaryHex, 'a9993e364706816aba3e25717850c26c9cd0d89d');
    // The docs' ciphertext decrypts; our ciphertext is nonce(12) ‖ ciphertext ‖ tag(16), readable by plain AES-GCM.
    assert.equal(c.docsDecrypted, 'MongoDB is great!');
    assert.equal(c.encryptedIsBinary, true);
    const bytes = Buffer.from(c.encryptedHex, 'hex');
    assert.equal(bytes.length, 12 + 'MongoDB is great!'.length + 16);
    const d = nodeCrypto.createDecipheriv('aes-256-gcm', Buffer.from(AES_KEY), bytes.subarray(0, 12));
    d.setAuthTag(bytes.subarray(bytes.length - 16));
    assert.equal(Buffer.concat([d.update(bytes.subarray(12, bytes.length - 16)), d.final()]).toString(), 'MongoDB is great!');
    assert.equal(c.roundTrip, 'MongoDB is great!');
    assert.match(c.wrongKeyError, /could not be authenticated/);
    // PKCS#1 v1.5 is deterministic: byte for byte OpenSSL's signature. PSS: OpenSSL's verifies, ours verifies.
    assert.equal(c.pkcs1v15Base64, OPENSSL_PKCS1V15);
    assert.equal(
      nodeCrypto.verify('sha256', Buffer.from('MongoDB is great!'), c.rsaPublicPem, Buffer.from(c.pkcs1v15Base64, 'base64')),
      true,
    );
    assert.equal(c.pssLength, 128);
    assert.equal(c.pssVerifies, true);
    assert.equal(c.opensslPssVerifies, true);
    assert.equal(c.tamperedVerifies, false);
  });
});

describe('utils.jwt (item 1, §11.4)', () => {
  test('encode reproduces the docs HS512 token; decode returns its payload (and header)', async () => {
    const enc = await post('/jwt/encode', { alg: 'HS512', payload: DOCS_PAYLOAD, secret: 'SuperSecret' });
    assert.equal(enc.status, 200, enc.text);
    assert.equal(enc.json().token, DOCS_TOKEN);
    const dec = await post('/jwt/decode', { token: DOCS_TOKEN, key: 'SuperSecret', accepted: ['HS512'] });
    assert.deepEqual(dec.json(), DOCS_PAYLOAD);
    const withHeader = await post('/jwt/decode', { token: DOCS_TOKEN, key: 'SuperSecret', returnHeader: true });
    assert.deepEqual(withHeader.json(), { header: { alg: 'HS512', typ: 'JWT' }, payload: DOCS_PAYLOAD });
  });

  test('a tampered token, a wrong key and a refused algorithm fail the function with a clear message', async () => {
    const tampered = DOCS_TOKEN.replace('eyJzdWIiOiIxMjM0NTY3ODkw', 'eyJzdWIiOiIxMjM0NTY3ODkx');
    assert.notEqual(tampered, DOCS_TOKEN);
    for (const [body, message] of [
      [{ token: tampered, key: 'SuperSecret' }, /signature is invalid/],
      [{ token: DOCS_TOKEN, key: 'WrongSecret' }, /signature is invalid/],
      [{ token: DOCS_TOKEN, key: 'SuperSecret', accepted: ['HS256'] }, /not in acceptedSigningMethods/],
    ] as const) {
      const r = await post('/jwt/decode', body);
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json().error_code, 'FunctionExecutionError');
      assert.match(r.json().error, message);
    }
  });

  test('RS256 both ways with an independent implementation (jose)', async () => {
    const { privateKey, publicKey } = nodeCrypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const privPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const pubPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const enc = await post('/jwt/encode', { alg: 'RS256', payload: { sub: 'u1' }, secret: privPem, header: { kid: 'k1' } });
    const verified = await jose.jwtVerify(enc.json().token, await jose.importSPKI(pubPem, 'RS256'));
    assert.equal(verified.payload.sub, 'u1');
    assert.equal(verified.protectedHeader.kid, 'k1');
    const theirs = await new jose.SignJWT({ sub: 'u2' }).setProtectedHeader({ alg: 'RS256' }).sign(await jose.importPKCS8(privPem, 'RS256'));
    assert.deepEqual((await post('/jwt/decode', { token: theirs, key: pubPem })).json(), { sub: 'u2' });
  });
});

describe('BSON and EJSON globals (item 2, §11.4)', () => {
  test('every BSON constructor, with and without new, comes back as the right EJSON type', async () => {
    const hex = '5e58667d902d38559c802b13';
    const b64 = Buffer.from('Test message please ignore').toString('base64');
    const r = await call(`/bson?${new URLSearchParams({ hex, b64 })}`);
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type') ?? '', /application\/ejson/);
    const b = r.json();
    assert.match(b.freshHex, /^[0-9a-f]{24}$/);
    assert.notEqual(b.freshHex, hex);
    delete b.freshHex;
    assert.deepEqual(b, {
      withNew: { $oid: hex },
      withoutNew: { $oid: hex },
      sameId: true,
      regex: { $regularExpression: { pattern: 'the great', options: 'i' } },
      regexWithNew: { $regularExpression: { pattern: '^a', options: 'im' } },
      bin: { $binary: { base64: b64, subType: '00' } },
      binText: 'Test message please ignore',
      binHex: Buffer.from('Test message please ignore').toString('hex'),
      binBase64: b64,
      fromHexText: 'Test message please ignore',
      int32: { $numberInt: '42' },
      long: { $numberLong: String(342n * 2n ** 32n + 600206158n) },
      double: { $numberDouble: '10.5' },
      decimal: { $numberDecimal: '9823.1297' },
      minKey: { $minKey: 1 },
      maxKey: { $maxKey: 1 },
    });
  });

  test('EJSON.parse gives BSON values; EJSON.stringify writes App Services style ($numberLong for integers)', async () => {
    const body = JSON.stringify({
      when: { $date: { $numberLong: '1641954803067' } },
      id: { $oid: '5e58667d902d38559c802b13' },
      small: { $numberInt: '7' },
      big: { $numberLong: '9223372036854775807' },
      dec: { $numberDecimal: '1.25' },
    });
    const r = await call('/ejson', { method: 'POST', body });
    assert.equal(r.status, 200, r.text);
    const e = r.json();
    assert.equal(e.isDate, true);
    assert.equal(e.time, 1641954803067);
    assert.equal(e.idHex, '5e58667d902d38559c802b13');
    assert.equal(e.idIsObjectId, true);
    assert.equal(e.intType, 'number');
    assert.equal(e.bigIsLong, true);
    assert.equal(e.big, '9223372036854775807');
    assert.equal(e.decimal, '1.25');
    assert.deepEqual(JSON.parse(e.restringified), { ...JSON.parse(body), small: { $numberLong: '7' } });
    assert.deepEqual(JSON.parse(e.stringifiedHere), {
      n: { $numberLong: '5' },
      x: { $numberDouble: '1.5' },
      d: { $date: { $numberLong: '0' } },
      id: { $oid: '5e58667d902d38559c802b13' },
    });
    assert.deepEqual(JSON.parse(e.relaxed), { n: 5, d: { $date: '1970-01-01T00:00:00.000Z' } });
  });
});

describe('context.user and HTTPResponse (item 4)', () => {
  test('a system call sees the §9.4 system user', async () => {
    const r = await call('/user');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json(), {
      user: { id: '', type: 'system', data: {}, custom_data: {}, identities: [] },
      runningAsSystem: true,
    });
  });

  test('the HTTPResponse global builds a response a function can hand to a handler, apart from the real one', async () => {
    const r = await call('/httpresponse');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json(), { global: 'function', madeIsResponse: true, realIsResponse: true, chainable: true, realChainable: true });
    assert.equal(r.headers.get('x-real'), 'yes');
    assert.equal(r.headers.get('x-made'), null, 'what the function set on its own HTTPResponse is not sent');
  });
});

describe('semantics (item 6)', () => {
  test('context.functions.execute passes arguments by reference', async () => {
    const r = await call('/by-ref');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json(), { order: { items: ['a', 'b'], total: 2, touchedBy: 'rt/mutate' }, sameObject: true });
  });

  test('throw new Error(obj) answers the JS message "[object Object]"', async () => {
    const r = await call('/throw-object');
    assert.equal(r.status, 400);
    assert.deepEqual({ error: r.json().error, error_code: r.json().error_code }, { error: '[object Object]', error_code: 'FunctionExecutionError' });
  });

  test('calling a method that does not exist fails with the TypeError message', async () => {
    const r = await call('/no-method');
    assert.equal(r.status, 400);
    assert.equal(r.json().error_code, 'FunctionExecutionError');
    assert.equal(r.json().error, 'response.badRequest is not a function');
    const onBody = await call('/no-method-on-body', { method: 'POST', body: 'x' });
    assert.equal(onBody.status, 400);
    assert.equal(onBody.json().error, 'body.getText is not a function');
  });

  test('sync and async functions both answer their value', async () => {
    assert.deepEqual((await call('/sync?n=21')).json(), { kind: 'sync', n: 42 });
    assert.deepEqual((await call('/async?n=5')).json(), { kind: 'async', n: 15, viaThen: { kind: 'sync', n: 10 } });
  });

  test('returned undefined (sync or async) gives 200 and an empty body', async () => {
    for (const route of ['/undefined', '/async-undefined']) {
      const r = await call(route);
      assert.equal(r.status, 200, route);
      assert.equal(r.text, '', route);
    }
  });
});
