// Providers through the client API (§9.3, §9.5) with a real SQLite store: email/password with its confirmation and
// reset flows, API keys (server and user), custom JWT (HS256, RS256 PEM, JWKS) with the policies.md refusals,
// anonymous users, custom-function auth, throttling, profile, user deletion, functions/call and CORS.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EJSON } from 'bson';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import type { CryptoKey } from 'jose';
import { AuthAdmin } from '../../src/auth';
import { APP_ID, JWT_SECRET, api, fn, loginUserpass, makeApp, provider, startAuth } from './fixtures';
import type { TestAuth } from './fixtures';

const enc = new TextEncoder();

function tokenArgs(t: TestAuth, functionName: string): { token: string; tokenId: string } {
  const call = [...t.calls].reverse().find((c) => c.functionName === functionName);
  assert.ok(call, `${functionName} was called`);
  return (EJSON.parse(call.argsEJSON, { relaxed: true }) as Array<{ token: string; tokenId: string }>)[0];
}

describe('local-userpass', () => {
  let t: TestAuth;
  before(async () => {
    t = await startAuth(makeApp(), { throttle: { maxFailuresPerAccount: 3, maxFailuresPerIp: 1000, windowSec: 60 } });
  });
  after(async () => t.auth.close());

  test('register (autoConfirm), log in, duplicate email, bad email and password rules', async () => {
    const r = await api(t.auth, 'POST', '/auth/providers/local-userpass/register', { body: { email: 'new@example.com', password: 'secret12' } });
    assert.equal(r.status, 201);
    const login = await loginUserpass(t.auth, 'New@Example.com', 'secret12');
    assert.equal(login.status, 200);
    const dup = await api(t.auth, 'POST', '/auth/providers/local-userpass/register', { body: { email: 'NEW@example.com', password: 'secret12' } });
    assert.deepEqual([dup.status, dup.body.error_code], [409, 'AccountNameInUse']);
    for (const body of [{ email: 'nope', password: 'secret12' }, { email: 'a@b.c', password: 'short' }, { email: 'a@b.c', password: 'x'.repeat(129) }]) {
      const bad = await api(t.auth, 'POST', '/auth/providers/local-userpass/register', { body });
      assert.equal(bad.status, 400, JSON.stringify(body));
    }
    // A 128-character password is accepted whole and the 127-character prefix does not match it.
    const long = 'p'.repeat(127) + 'q';
    assert.equal((await api(t.auth, 'POST', '/auth/providers/local-userpass/register', { body: { email: 'long@example.com', password: long } })).status, 201);
    assert.equal((await loginUserpass(t.auth, 'long@example.com', long)).status, 200);
    assert.equal((await loginUserpass(t.auth, 'long@example.com', long.slice(0, 127) + 'p')).status, 401);
  });

  test('login bodies must be strings: an object is refused, never used as a query', async () => {
    const r = await api(t.auth, 'POST', '/auth/providers/local-userpass/login', { body: { username: { $ne: null }, password: 'secret12' } });
    assert.deepEqual([r.status, r.body.error_code], [400, 'InvalidParameter']);
    const bad = await api(t.auth, 'POST', '/auth/providers/local-userpass/login', { body: 'not json' });
    assert.equal(bad.status, 400);
  });

  test('wrong password is 401 InvalidPassword; repeated failures for an account give 429 with Retry-After', async () => {
    await api(t.auth, 'POST', '/auth/providers/local-userpass/register', { body: { email: 'victim@example.com', password: 'rightpass' } });
    for (let i = 0; i < 3; i++) {
      const r = await loginUserpass(t.auth, 'victim@example.com', 'wrongpass');
      assert.deepEqual([r.status, r.body.error_code, r.body.error], [401, 'InvalidPassword', 'invalid username/password']);
    }
    const blocked = await loginUserpass(t.auth, 'victim@example.com', 'rightpass');
    assert.equal(blocked.status, 429);
    assert.equal(blocked.body.error_code, 'TooManyRequests');
    const retry = Number(blocked.headers.find(([k]) => k === 'Retry-After')?.[1]);
    assert.ok(retry >= 1 && retry <= 60, String(retry));
    // Other accounts are not blocked.
    assert.equal((await loginUserpass(t.auth, 'new@example.com', 'secret12')).status, 200);
  });

  test('pending users cannot log in; confirmation by the confirmation function (success, pending + token, fail)', async () => {
    const app = makeApp();
    const t2 = await startAuth(app, { dataDir: t.dataDir });
    try {
      const cfg = (c: Record<string, unknown>): void => {
        app.authProviders['local-userpass'] = provider('local-userpass', c);
      };
      cfg({ runConfirmationFunction: true, confirmationFunctionName: 'confirmOk' });
      assert.equal((await api(t2.auth, 'POST', '/auth/providers/local-userpass/register', { body: { email: 'c1@example.com', password: 'secret12' } })).status, 201);
      assert.equal((await loginUserpass(t2.auth, 'c1@example.com', 'secret12')).status, 200);
      assert.equal(tokenArgs(t2, 'confirmOk').tokenId.length, 24);

      cfg({ runConfirmationFunction: true, confirmationFunctionName: 'confirmPending' });
      await api(t2.auth, 'POST', '/auth/providers/local-userpass/register', { body: { email: 'c2@example.com', password: 'secret12' } });
      const pending = await loginUserpass(t2.auth, 'c2@example.com', 'secret12');
      assert.deepEqual([pending.status, pending.body.error], [401, 'confirmation required']);
      const { token, tokenId } = tokenArgs(t2, 'confirmPending');
      const wrong = await api(t2.auth, 'POST', '/auth/providers/local-userpass/confirm', { body: { token: 'f'.repeat(64), tokenId } });
      assert.deepEqual([wrong.status, wrong.body.error_code], [400, 'UserpassTokenInvalid']);
      // A wrong guess burns the token; ask the function again (confirm/call) for a new one.
      assert.equal((await api(t2.auth, 'POST', '/auth/providers/local-userpass/confirm', { body: { token, tokenId } })).status, 400);
      assert.equal((await api(t2.auth, 'POST', '/auth/providers/local-userpass/confirm/call', { body: { email: 'c2@example.com' } })).status, 204);
      const fresh = tokenArgs(t2, 'confirmPending');
      assert.equal((await api(t2.auth, 'POST', '/auth/providers/local-userpass/confirm', { body: fresh })).status, 204);
      assert.equal((await loginUserpass(t2.auth, 'c2@example.com', 'secret12')).status, 200);
      const already = await api(t2.auth, 'POST', '/auth/providers/local-userpass/confirm/send', { body: { email: 'c2@example.com' } });
      assert.equal(already.status, 409);

      cfg({ runConfirmationFunction: true, confirmationFunctionName: 'confirmFail' });
      const failed = await api(t2.auth, 'POST', '/auth/providers/local-userpass/register', { body: { email: 'c3@example.com', password: 'secret12' } });
      assert.equal(failed.status, 400);
      // Refused registrations leave nothing behind: the email can register again.
      cfg({ autoConfirm: true });
      assert.equal((await api(t2.auth, 'POST', '/auth/providers/local-userpass/register', { body: { email: 'c3@example.com', password: 'secret12' } })).status, 201);

      // No autoConfirm and no function: pending until an operator confirms.
      cfg({ emailConfirmationUrl: 'https://example.com/confirm' });
      await api(t2.auth, 'POST', '/auth/providers/local-userpass/register', { body: { email: 'c4@example.com', password: 'secret12' } });
      assert.equal((await loginUserpass(t2.auth, 'c4@example.com', 'secret12')).status, 401);
      const admin = await AuthAdmin.open(app, t.dataDir);
      await admin.confirmUser('c4@example.com');
      await admin.close();
      assert.equal((await loginUserpass(t2.auth, 'c4@example.com', 'secret12')).status, 200);
    } finally {
      await t2.auth.close();
    }
  });

  test('password reset through the reset function (success / fail / pending + token) ends open sessions', async () => {
    const app = makeApp();
    app.authProviders['local-userpass'] = provider('local-userpass', { autoConfirm: true, runResetFunction: true, resetFunctionName: 'resetOk' });
    const t2 = await startAuth(app, { dataDir: t.dataDir });
    try {
      await api(t2.auth, 'POST', '/auth/providers/local-userpass/register', { body: { email: 'r1@example.com', password: 'oldpass1' } });
      const session = (await loginUserpass(t2.auth, 'r1@example.com', 'oldpass1')).body;
      const refused = await api(t2.auth, 'POST', '/auth/providers/local-userpass/reset/call', { body: { email: 'r1@example.com', password: 'newpass1', arguments: ['red'] } });
      assert.equal(refused.status, 400);
      assert.equal((await loginUserpass(t2.auth, 'r1@example.com', 'oldpass1')).status, 200);
      const okReset = await api(t2.auth, 'POST', '/auth/providers/local-userpass/reset/call', { body: { email: 'r1@example.com', password: 'newpass1', arguments: ['blue'] } });
      assert.equal(okReset.status, 204);
      const resetArgs = EJSON.parse([...t2.calls].reverse().find((c) => c.functionName === 'resetOk')!.argsEJSON, { relaxed: true }) as unknown[];
      assert.deepEqual(Object.keys(resetArgs[0] as object).sort(), ['currentPasswordValid', 'password', 'token', 'tokenId', 'username']);
      assert.equal(resetArgs[1], 'blue');
      assert.equal((await loginUserpass(t2.auth, 'r1@example.com', 'oldpass1')).status, 401);
      assert.equal((await loginUserpass(t2.auth, 'r1@example.com', 'newpass1')).status, 200);
      assert.equal((await api(t2.auth, 'POST', '/auth/session', { token: session.refresh_token })).status, 401, 'old sessions ended');
      // reset/send keeps a token (Atrium mails nothing); /reset with a bad token is refused.
      assert.equal((await api(t2.auth, 'POST', '/auth/providers/local-userpass/reset/send', { body: { email: 'r1@example.com' } })).status, 204);
      assert.equal((await api(t2.auth, 'POST', '/auth/providers/local-userpass/reset/send', { body: { email: 'nobody@example.com' } })).status, 404);
      const bad = await api(t2.auth, 'POST', '/auth/providers/local-userpass/reset', { body: { token: 'a'.repeat(64), tokenId: 'b'.repeat(24), password: 'another1' } });
      assert.deepEqual([bad.status, bad.body.error_code], [400, 'UserpassTokenInvalid']);
    } finally {
      await t2.auth.close();
    }
  });

  test('a disabled provider refuses logins and registrations', async () => {
    const app = makeApp();
    app.authProviders['local-userpass'] = provider('local-userpass', { autoConfirm: true }, { disabled: true });
    const t2 = await startAuth(app, { dataDir: t.dataDir });
    try {
      const r = await loginUserpass(t2.auth, 'new@example.com', 'secret12');
      assert.deepEqual([r.status, r.body.error_code], [401, 'AuthProviderNotFound']);
      assert.equal((await api(t2.auth, 'POST', '/auth/providers/local-userpass/register', { body: { email: 'z@example.com', password: 'secret12' } })).status, 401);
    } finally {
      await t2.auth.close();
    }
  });
});

describe('api keys', () => {
  let t: TestAuth;
  before(async () => {
    // The operator's changes come through another store handle: read the store on every request.
    t = await startAuth(makeApp(), { throttle: { maxFailuresPerAccount: 1000, maxFailuresPerIp: 3, windowSec: 60 }, sessionCacheMs: 0 });
  });
  after(async () => t.auth.close());

  test('server keys: created by the operator, log in as a server user; disabled and deleted keys stop working', async () => {
    const admin = await AuthAdmin.open(t.app, t.dataDir);
    const created = await admin.createApiKey('ci');
    assert.match(created.secret, /^[A-Za-z0-9]{64}$/);
    await assert.rejects(admin.createApiKey('ci'), /already exists/);
    const login = await api(t.auth, 'POST', '/auth/providers/api-key/login', { body: { key: created.secret } });
    assert.equal(login.status, 200);
    const profile = await api(t.auth, 'GET', '/auth/profile', { token: login.body.access_token });
    assert.equal(profile.body.type, 'server');
    assert.equal(profile.body.identities[0].provider_type, 'api-key');
    assert.equal(profile.body.identities[0].id, created.key.id);

    await admin.setApiKeyDisabled(created.key.id, true);
    assert.equal((await api(t.auth, 'POST', '/auth/providers/api-key/login', { body: { key: created.secret } })).status, 401);
    assert.equal((await api(t.auth, 'GET', '/auth/profile', { token: login.body.access_token })).status, 401, 'its sessions ended too');
    await admin.setApiKeyDisabled(created.key.id, false);
    assert.equal((await api(t.auth, 'POST', '/auth/providers/api-key/login', { body: { key: created.secret } })).status, 200);
    await admin.deleteApiKey(created.key.id);
    assert.equal((await api(t.auth, 'POST', '/auth/providers/api-key/login', { body: { key: created.secret } })).status, 401);
    await admin.close();
  });

  test('user keys: create (shown once), list, get, disable/enable, delete; a user key logs in as its owner', async () => {
    await api(t.auth, 'POST', '/auth/providers/local-userpass/register', { body: { email: 'owner@example.com', password: 'secret12' } });
    const owner = (await loginUserpass(t.auth, 'owner@example.com', 'secret12')).body;
    const created = await api(t.auth, 'POST', '/auth/api_keys', { token: owner.refresh_token, body: { name: 'laptop' } });
    assert.equal(created.status, 201);
    assert.match(created.body.key, /^[A-Za-z0-9]{64}$/);
    assert.equal(created.body.disabled, false);
    const id = created.body._id;
    const list = await api(t.auth, 'GET', '/auth/api_keys', { token: owner.refresh_token });
    assert.deepEqual(list.body, [{ _id: id, name: 'laptop', disabled: false }]);
    assert.equal((await api(t.auth, 'GET', `/auth/api_keys/${id}`, { token: owner.access_token })).body.key, undefined, 'the key is never shown again');

    const asKey = await api(t.auth, 'POST', '/auth/providers/api-key/login', { body: { key: created.body.key } });
    assert.equal(asKey.status, 200);
    assert.equal(asKey.body.user_id, owner.user_id);

    assert.equal((await api(t.auth, 'PUT', `/auth/api_keys/${id}/disable`, { token: owner.refresh_token })).status, 204);
    assert.equal((await api(t.auth, 'POST', '/auth/providers/api-key/login', { body: { key: created.body.key } })).status, 401);
    assert.equal((await api(t.auth, 'PUT', `/auth/api_keys/${id}/enable`, { token: owner.refresh_token })).status, 204);
    // Someone else cannot see or delete it.
    await api(t.auth, 'POST', '/auth/providers/local-userpass/register', { body: { email: 'other@example.com', password: 'secret12' } });
    const other = (await loginUserpass(t.auth, 'other@example.com', 'secret12')).body;
    assert.equal((await api(t.auth, 'DELETE', `/auth/api_keys/${id}`, { token: other.refresh_token })).status, 404);
    assert.equal((await api(t.auth, 'DELETE', `/auth/api_keys/${id}`, { token: owner.refresh_token })).status, 204);
    assert.equal((await api(t.auth, 'POST', '/auth/providers/api-key/login', { body: { key: created.body.key } })).status, 401);
  });

  test('wrong keys are throttled per client address', async () => {
    for (let i = 0; i < 3; i++) {
      assert.equal((await api(t.auth, 'POST', '/auth/providers/api-key/login', { body: { key: 'k'.repeat(64) }, ip: '10.9.9.9' })).status, 401);
    }
    const r = await api(t.auth, 'POST', '/auth/providers/api-key/login', { body: { key: 'k'.repeat(64) }, ip: '10.9.9.9' });
    assert.equal(r.status, 429);
    assert.ok(r.headers.some(([k]) => k === 'Retry-After'));
    assert.equal((await api(t.auth, 'POST', '/auth/providers/api-key/login', { body: { key: 'k'.repeat(64) }, ip: '10.9.9.8' })).status, 401);
  });

  test('API keys are stored only as keyed hashes', async () => {
    const admin = await AuthAdmin.open(t.app, t.dataDir);
    const { secret } = await admin.createApiKey('hashed');
    await admin.close();
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(`${t.dataDir}/platform.sqlite`, { readonly: true });
    try {
      const dump = JSON.stringify(db.prepare('SELECT * FROM api_keys').all());
      assert.ok(!dump.includes(secret));
      assert.match(dump, /"key_hash":"[0-9a-f]{64}"/);
      const users = JSON.stringify(db.prepare('SELECT * FROM userpass').all());
      assert.ok(!users.includes('secret12'), 'passwords are not stored');
      assert.match(users, /scrypt\$16384\$8\$1\$/);
    } finally {
      db.close();
    }
  });
});

describe('custom-token (custom JWT)', () => {
  let t: TestAuth;
  const key = enc.encode(JWT_SECRET);
  const now = (): number => Math.floor(Date.now() / 1000);
  const sign = (claims: Record<string, unknown>, alg = 'HS256', k: Uint8Array | CryptoKey = key): Promise<string> =>
    new SignJWT({ email: 'j@example.com', ...claims }).setProtectedHeader({ alg }).sign(k);
  const login = (token: string, name = 'custom-token'): ReturnType<typeof api> => api(t.auth, 'POST', `/auth/providers/${name}/login`, { body: { token } });
  const base = (): Record<string, unknown> => ({ sub: 'jwt-user-1', aud: APP_ID, exp: now() + 300, iat: now() });

  before(async () => {
    t = await startAuth(makeApp(), { throttle: { maxFailuresPerAccount: 1000, maxFailuresPerIp: 1000 } });
  });
  after(async () => t.auth.close());

  test('a valid HS256 token logs in, creating the user with metadata fields', async () => {
    const r = await login(await sign({ ...base(), profile: { 'display.name': 'Jay' } }));
    assert.equal(r.status, 200);
    const profile = await api(t.auth, 'GET', '/auth/profile', { token: r.body.access_token });
    assert.deepEqual(profile.body.data, { email: 'j@example.com', displayName: 'Jay' });
    assert.deepEqual(profile.body.identities.map((i: { id: string }) => i.id), ['jwt-user-1']);
    const again = await login(await sign(base()));
    assert.equal(again.body.user_id, r.body.user_id);
    // {key} (Data API examples) works like {token}.
    assert.equal((await api(t.auth, 'POST', '/auth/providers/custom-token/login', { body: { key: await sign(base()) } })).status, 200);
  });

  test('refused: alg none, HS512 on an HS256 provider, RS header over HMAC, wrong/absent aud, expired, nbf/iat in the future, no sub, missing required metadata', async () => {
    const cases: Array<[string, Promise<string>]> = [
      ['alg none', Promise.resolve(new UnsecuredJWT(base()).encode())],
      ['HS512', sign(base(), 'HS512')],
      ['wrong aud', sign({ ...base(), aud: 'someone-else' })],
      ['no aud', sign({ ...base(), aud: undefined })],
      ['expired', sign({ ...base(), exp: now() - 3600 })],
      ['no exp', sign({ ...base(), exp: undefined })],
      ['nbf future', sign({ ...base(), nbf: now() + 3600 })],
      ['iat future', sign({ ...base(), iat: now() + 3600 })],
      ['no sub', sign({ ...base(), sub: undefined })],
      ['no email', new SignJWT(base()).setProtectedHeader({ alg: 'HS256' }).sign(key)],
      ['other key', sign(base(), 'HS256', enc.encode('another-secret-another-secret-another-secret'))],
    ];
    // RS256 header with an HMAC signature made with the shared secret (HS/RS confusion).
    const [h, p] = (await sign(base())).split('.');
    const rsHeader = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT' })).toString('base64url');
    const { createHmac } = await import('node:crypto');
    const confused = `${rsHeader}.${p}.${createHmac('sha256', JWT_SECRET).update(`${rsHeader}.${p}`).digest('base64url')}`;
    cases.push(['RS header over HMAC', Promise.resolve(confused)]);
    void h;
    for (const [name, tokenP] of cases) {
      const r = await login(await tokenP);
      assert.equal(r.status, 401, `${name}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error_code, 'InvalidSession', name);
    }
  });

  test('audience lists: all required by default, any with requireAnyAudience', async () => {
    const app = makeApp();
    const def = app.authProviders['custom-token'];
    const t2 = await startAuth(app, { dataDir: t.dataDir });
    try {
      def.config = { signingAlgorithm: 'HS256', audience: ['a1', 'a2'] };
      assert.equal((await login2(t2, await sign({ ...base(), aud: ['a1'] }))).status, 401);
      assert.equal((await login2(t2, await sign({ ...base(), aud: ['a1', 'a2', 'a3'] }))).status, 200);
      def.config = { signingAlgorithm: 'HS256', audience: ['a1', 'a2'], requireAnyAudience: true };
      assert.equal((await login2(t2, await sign({ ...base(), aud: 'a2' }))).status, 200);
      assert.equal((await login2(t2, await sign({ ...base(), aud: 'a3' }))).status, 401);
    } finally {
      await t2.auth.close();
    }
  });

  async function login2(t2: TestAuth, token: string): ReturnType<typeof api> {
    return api(t2.auth, 'POST', '/auth/providers/custom-token/login', { body: { token } });
  }

  test('RS256 with a PEM public key from a secret; an HS256 token is refused there', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const app = makeApp({ secrets: { jwtKey: JWT_SECRET, rsaPem: await exportSPKI(publicKey) } });
    app.authProviders['custom-token'] = provider('custom-token', { signingAlgorithm: 'RS256' }, { secretConfig: { signingKeys: ['rsaPem'] } });
    const t2 = await startAuth(app, { dataDir: t.dataDir });
    try {
      assert.equal((await login2(t2, await sign(base(), 'RS256', privateKey))).status, 200);
      assert.equal((await login2(t2, await sign(base()))).status, 401);
    } finally {
      await t2.auth.close();
    }
  });

  test('a signing key that is not a PEM public key is reported at start; logins then fail clearly', async () => {
    const app = makeApp({ secrets: { jwtKey: JWT_SECRET, notPem: 'just some text' } });
    app.authProviders['custom-token'] = provider('custom-token', { signingAlgorithm: 'RS256' }, { secretConfig: { signingKeys: ['notPem'] } });
    const t2 = await startAuth(app, { dataDir: t.dataDir });
    try {
      assert.equal(t2.auth.warnings.length, 1);
      assert.match(t2.auth.warnings[0], /auth provider "custom-token": a signing key is not an RSA public key in PEM form/);
      assert.ok(!t2.auth.warnings[0].includes('just some text'), 'the secret value is not repeated');
      const { privateKey } = await generateKeyPair('RS256');
      const r = await login2(t2, await sign(base(), 'RS256', privateKey));
      assert.deepEqual([r.status, r.body.error_code], [500, 'InternalServerError']);
    } finally {
      await t2.auth.close();
    }
  });

  test('RS256 with a JWKS URI (kid required)', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    const server = http.createServer((_q, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const app = makeApp();
    app.authProviders['custom-token'] = provider('custom-token', { signingAlgorithm: 'RS256', useJWKURI: true, jwkURI: `http://127.0.0.1:${port}/jwks.json` });
    const t2 = await startAuth(app, { dataDir: t.dataDir });
    try {
      const good = await new SignJWT(base()).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(privateKey);
      assert.equal((await login2(t2, good)).status, 200);
      const noKid = await new SignJWT(base()).setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
      assert.equal((await login2(t2, noKid)).status, 401);
      const other = await generateKeyPair('RS256');
      const wrongKey = await new SignJWT(base()).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(other.privateKey);
      assert.equal((await login2(t2, wrongKey)).status, 401);
    } finally {
      await t2.auth.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('anon-user and custom-function', () => {
  let t: TestAuth;
  before(async () => {
    t = await startAuth(makeApp(), { throttle: { maxFailuresPerAccount: 1000, maxFailuresPerIp: 1000 } });
  });
  after(async () => t.auth.close());

  test('each anonymous login is a new user', async () => {
    const a = await api(t.auth, 'POST', '/auth/providers/anon-user/login', { body: {} });
    const b = await api(t.auth, 'POST', '/auth/providers/anon-user/login');
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.notEqual(a.body.user_id, b.body.user_id);
    const profile = await api(t.auth, 'GET', '/auth/profile', { token: a.body.access_token });
    assert.equal(profile.body.identities[0].provider_type, 'anon-user');
  });

  test('custom-function: an id or {id, name}; a throw refuses with its message; the SDK options are not passed on', async () => {
    const r = await api(t.auth, 'POST', '/auth/providers/custom-function/login', { body: { user: 'ext-7', pin: '1234', options: { device: {} } } });
    assert.equal(r.status, 200);
    const call = t.calls.at(-1)!;
    assert.equal(call.functionName, 'authFn');
    assert.equal(call.runAsSystem, true);
    assert.deepEqual(EJSON.parse(call.argsEJSON, { relaxed: true }), [{ user: 'ext-7', pin: '1234' }]);
    const named = await api(t.auth, 'POST', '/auth/providers/custom-function/login', { body: { user: 'ext-7', pin: '1234', withName: true } });
    assert.equal(named.body.user_id, r.body.user_id, 'same external id, same user');
    const profile = await api(t.auth, 'GET', '/auth/profile', { token: named.body.access_token });
    assert.equal(profile.body.data.name, 'Named ext-7');
    const refused = await api(t.auth, 'POST', '/auth/providers/custom-function/login', { body: { user: 'ext-7', pin: '0000' } });
    assert.equal(refused.status, 401);
    assert.match(refused.body.error, /wrong pin/);
  });

  test('unknown providers and OAuth providers are refused clearly', async () => {
    assert.equal((await api(t.auth, 'POST', '/auth/providers/nope/login', { body: {} })).status, 401);
  });
});

describe('client API: location, profile, delete, functions/call, CORS', () => {
  let t: TestAuth;
  let session: { access_token: string; refresh_token: string; user_id: string };
  before(async () => {
    const app = makeApp({ allowedRequestOrigins: ['https://good.example'] });
    app.functions.guarded = fn('guarded', 'exports = (n) => n * 2;', { canEvaluate: { '%%args.0': { $gt: 10 } } });
    app.functions.asSystem = fn('asSystem', 'exports = () => ({ system: context.runningAsSystem(), caller: context.user.id });', { runAsSystem: true });
    t = await startAuth(app);
    await api(t.auth, 'POST', '/auth/providers/local-userpass/register', { body: { email: 'fc@example.com', password: 'secret12' } });
    session = (await loginUserpass(t.auth, 'fc@example.com', 'secret12')).body;
  });
  after(async () => t.auth.close());

  test('location names this server', async () => {
    const r = await api(t.auth, 'GET', '/location', { headers: [['Host', 'atrium.local:8443']] });
    assert.deepEqual(r.body, { deployment_model: 'GLOBAL', location: 'US-VA', hostname: 'http://atrium.local:8443', ws_hostname: 'ws://atrium.local:8443' });
  });

  test('paths that are not ours return null; other app ids 404; wrong methods 405', async () => {
    assert.equal(await t.auth.handleClientApi('GET', `/api/client/v2.0/app/${APP_ID}/service/http/incoming_webhook/x`, (await import('./fixtures')).req()), null);
    assert.equal((await t.auth.handleClientApi('GET', '/api/client/v2.0/app/other-app/location', (await import('./fixtures')).req()))?.status, 404);
    assert.equal((await api(t.auth, 'GET', '/auth/providers/local-userpass/login')).status, 405);
  });

  test('profile', async () => {
    const p = await api(t.auth, 'GET', '/auth/profile', { token: session.access_token });
    assert.equal(p.status, 200);
    assert.equal(p.body.user_id, session.user_id);
    assert.equal(p.body.type, 'normal');
    assert.deepEqual(p.body.data, { email: 'fc@example.com' });
    assert.equal(p.body.identities[0].provider_type, 'local-userpass');
    assert.equal((await api(t.auth, 'GET', '/auth/profile')).status, 401);
  });

  test('functions/call runs non-private functions as the caller, with EJSON arguments and result', async () => {
    const r = await api(t.auth, 'POST', '/functions/call', { token: session.access_token, body: { name: 'sum', arguments: [{ $numberInt: '2' }, 3.5] } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { $numberDouble: '5.5' });
    const call = t.calls.at(-1)!;
    assert.equal(call.user!.id, session.user_id);
    assert.equal(call.runAsSystem, false);
    const sys = await api(t.auth, 'POST', '/functions/call', { token: session.access_token, body: { name: 'asSystem', arguments: [] } });
    assert.deepEqual(sys.body, { system: true, caller: session.user_id });
    const priv = await api(t.auth, 'POST', '/functions/call', { token: session.access_token, body: { name: 'secretOnly', arguments: [] } });
    assert.deepEqual([priv.status, priv.body.error_code], [404, 'FunctionNotFound']);
    const missing = await api(t.auth, 'POST', '/functions/call', { token: session.access_token, body: { name: 'nope', arguments: [] } });
    assert.equal(missing.status, 404);
    assert.equal((await api(t.auth, 'POST', '/functions/call', { body: { name: 'sum', arguments: [] } })).status, 401);
    const badEjson = await api(t.auth, 'POST', '/functions/call', { token: session.access_token, body: { name: 'sum', arguments: [{ $date: 'nope' }] } });
    assert.equal(badEjson.status, 400);
  });

  test('functions/call applies can_evaluate with %%args', async () => {
    const ok = await api(t.auth, 'POST', '/functions/call', { token: session.access_token, body: { name: 'guarded', arguments: [11] } });
    assert.equal(ok.status, 200);
    const no = await api(t.auth, 'POST', '/functions/call', { token: session.access_token, body: { name: 'guarded', arguments: [3] } });
    assert.deepEqual([no.status, no.body.error_code], [403, 'FunctionNotCallable']);
  });

  test('CORS: allowed origins get headers and preflights; others are refused', async () => {
    const pre = await api(t.auth, 'OPTIONS', '/auth/providers/local-userpass/login', { headers: [['Origin', 'https://good.example'], ['Access-Control-Request-Headers', 'content-type']] });
    assert.equal(pre.status, 204);
    assert.ok(pre.headers.some(([k, v]) => k === 'Access-Control-Allow-Origin' && v === 'https://good.example'));
    const bad = await api(t.auth, 'GET', '/location', { headers: [['Origin', 'https://evil.example']] });
    assert.deepEqual([bad.status, bad.body.error_code], [403, 'DomainNotAllowed']);
  });

  test('identity linking (login with ?link=true): anonymous user keeps its id when it registers; taken identities are refused', async () => {
    const anon = (await api(t.auth, 'POST', '/auth/providers/anon-user/login')).body;
    await api(t.auth, 'POST', '/auth/providers/local-userpass/register', { body: { email: 'upgrade@example.com', password: 'secret12' } });
    const linked = await api(t.auth, 'POST', '/auth/providers/local-userpass/login', { query: 'link=true', token: anon.access_token, body: { username: 'upgrade@example.com', password: 'secret12' } });
    assert.equal(linked.status, 200, JSON.stringify(linked.body));
    assert.equal(linked.body.user_id, anon.user_id);
    const profile = await api(t.auth, 'GET', '/auth/profile', { token: linked.body.access_token });
    assert.deepEqual(profile.body.identities.map((i: { provider_type: string }) => i.provider_type).sort(), ['anon-user', 'local-userpass']);
    assert.equal(profile.body.data.email, 'upgrade@example.com');
    const later = await loginUserpass(t.auth, 'upgrade@example.com', 'secret12');
    assert.equal(later.body.user_id, anon.user_id, 'the email now logs in as the linked user');
    // An identity another user has used cannot be taken over.
    const other = (await api(t.auth, 'POST', '/auth/providers/anon-user/login')).body;
    const taken = await api(t.auth, 'POST', '/auth/providers/local-userpass/login', { query: 'link=true', token: other.access_token, body: { username: 'fc@example.com', password: 'secret12' } });
    assert.deepEqual([taken.status, taken.body.error_code], [409, 'AccountNameInUse']);
    // Linking needs a valid access token.
    assert.equal((await api(t.auth, 'POST', '/auth/providers/anon-user/login', { query: 'link=true' })).status, 401);
  });

  test('DELETE /auth/delete removes the user and ends its sessions', async () => {
    await api(t.auth, 'POST', '/auth/providers/local-userpass/register', { body: { email: 'bye@example.com', password: 'secret12' } });
    const s = (await loginUserpass(t.auth, 'bye@example.com', 'secret12')).body;
    assert.equal((await api(t.auth, 'DELETE', '/auth/delete', { token: s.access_token })).status, 204);
    assert.equal((await api(t.auth, 'POST', '/auth/session', { token: s.refresh_token })).status, 401);
    assert.equal((await loginUserpass(t.auth, 'bye@example.com', 'secret12')).status, 401);
    // The email is free again.
    assert.equal((await api(t.auth, 'POST', '/auth/providers/local-userpass/register', { body: { email: 'bye@example.com', password: 'secret12' } })).status, 201);
  });
});
