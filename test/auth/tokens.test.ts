// Access/refresh tokens and sessions (§9.3): lifetimes, refresh, logout revocation, signing keys that survive a
// restart and are shared by instances on one store, and forged tokens refused.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeJwt, decodeProtectedHeader, SignJWT, UnsecuredJWT } from 'jose';
import { AuthAdmin } from '../../src/auth';
import { APP_ID, api, fn, endpoint, loginUserpass, makeApp, req, startAuth } from './fixtures';
import type { TestAuth } from './fixtures';

let t: TestAuth;

const appAuthFn = fn('hello', 'exports = () => 1;');

async function bearerWorks(auth: TestAuth['auth'], token: string): Promise<boolean> {
  const o = await auth.resolveEndpointIdentity(appAuthFn, endpoint(), req({ headers: [['Authorization', `Bearer ${token}`]] }));
  return o.ok;
}

before(async () => {
  t = await startAuth(makeApp());
  const admin = await AuthAdmin.open(t.app, t.dataDir);
  await admin.createUser('tok@example.com', 'password1');
  await admin.close();
});

after(async () => {
  await t.auth.close();
});

describe('tokens', () => {
  test('login returns tokens shaped like App Services: HS256, claims, 30 min / 60 days', async () => {
    const r = await loginUserpass(t.auth, 'tok@example.com', 'password1');
    assert.equal(r.status, 200);
    const { access_token, refresh_token, user_id, device_id } = r.body;
    assert.match(user_id, /^[0-9a-f]{24}$/);
    assert.match(device_id, /^[0-9a-f]{24}$/);
    assert.equal(decodeProtectedHeader(access_token).alg, 'HS256');
    const a = decodeJwt(access_token);
    assert.equal(a.typ, 'access');
    assert.equal(a.sub, user_id);
    assert.equal(a.aud, APP_ID);
    assert.equal(a.baas_device_id, device_id);
    assert.equal(a.exp! - a.iat!, 1800);
    const rt = decodeJwt(refresh_token);
    assert.equal(rt.typ, 'refresh');
    assert.equal(rt.exp! - rt.iat!, 60 * 24 * 3600);
    assert.deepEqual((rt.baas_identity as { provider_type: string }).provider_type, 'local-userpass');
    assert.equal(rt.iss, a.iss, 'both tokens name the same session');
  });

  test('the SDK device id is kept when it sends one', async () => {
    const r = await api(t.auth, 'POST', '/auth/providers/local-userpass/login', {
      body: { username: 'tok@example.com', password: 'password1', options: { device: { deviceId: '60f0000000000000000000aa' } } },
    });
    assert.equal(r.body.device_id, '60f0000000000000000000aa');
  });

  test('refresh mints a new access token; logout revokes both tokens at once', async () => {
    const { access_token, refresh_token } = (await loginUserpass(t.auth, 'tok@example.com', 'password1')).body;
    const refreshed = await api(t.auth, 'POST', '/auth/session', { token: refresh_token });
    assert.equal(refreshed.status, 201);
    assert.equal(typeof refreshed.body.access_token, 'string');
    assert.equal(await bearerWorks(t.auth, refreshed.body.access_token), true);
    // An access token is not a refresh token, and the other way round.
    assert.equal((await api(t.auth, 'POST', '/auth/session', { token: access_token })).status, 401);
    assert.equal(await bearerWorks(t.auth, refresh_token), false);

    const out = await api(t.auth, 'DELETE', '/auth/session', { token: refresh_token });
    assert.equal(out.status, 204);
    const again = await api(t.auth, 'POST', '/auth/session', { token: refresh_token });
    assert.equal(again.status, 401);
    assert.equal(again.body.error_code, 'InvalidSession');
    assert.match(again.body.error, /failed to find refresh token/);
    assert.equal(await bearerWorks(t.auth, access_token), false, 'the access token died with its session');
    assert.equal(await bearerWorks(t.auth, refreshed.body.access_token), false);
    const twice = await api(t.auth, 'DELETE', '/auth/session', { token: refresh_token });
    assert.equal(twice.status, 401);
  });

  test('an expired access token answers "access token expired"; refresh still works', async () => {
    const short = await startAuth(t.app, { dataDir: t.dataDir, accessTokenTtlSec: 1 });
    try {
      const { access_token, refresh_token } = (await loginUserpass(short.auth, 'tok@example.com', 'password1')).body;
      assert.equal(decodeJwt(access_token).exp! - decodeJwt(access_token).iat!, 1);
      // jose allows 5 s of clock skew; wait past it.
      await new Promise((r) => setTimeout(r, 7000));
      const o = await short.auth.resolveEndpointIdentity(appAuthFn, endpoint(), req({ headers: [['Authorization', `Bearer ${access_token}`]] }));
      assert.ok(!o.ok && o.status === 401 && o.code === 'InvalidSession' && o.message === 'invalid session: access token expired', JSON.stringify(o));
      const profile = await api(short.auth, 'GET', '/auth/profile', { token: access_token });
      assert.equal(profile.status, 401);
      const r = await api(short.auth, 'POST', '/auth/session', { token: refresh_token });
      assert.equal(r.status, 201);
    } finally {
      await short.auth.close();
    }
  });

  test('forged tokens are refused: alg none, another key, tampered payload, wrong audience', async () => {
    const { access_token, user_id } = (await loginUserpass(t.auth, 'tok@example.com', 'password1')).body;
    const claims = decodeJwt(access_token);
    const none = new UnsecuredJWT({ ...claims }).encode();
    assert.equal(await bearerWorks(t.auth, none), false);
    const otherKey = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('x'.repeat(64)));
    assert.equal(await bearerWorks(t.auth, otherKey), false);
    const [h, , s] = access_token.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: '5f0000000000000000000999' })).toString('base64url')}.${s}`;
    assert.equal(await bearerWorks(t.auth, tampered), false);
    assert.equal(await bearerWorks(t.auth, access_token), true);
    // Same key, same session, but minted for another app: refused (audience pinned).
    const other = await startAuth(makeApp({ appId: 'other-app' }), { dataDir: t.dataDir });
    try {
      assert.equal(await bearerWorks(other.auth, access_token), false);
    } finally {
      await other.auth.close();
    }
    assert.equal(user_id, claims.sub);
  });

  test('signing keys are generated once under the data dir: tokens survive a restart and work on a second instance', async () => {
    assert.ok(fs.existsSync(path.join(t.dataDir, 'platform.sqlite')));
    const { access_token, refresh_token } = (await loginUserpass(t.auth, 'tok@example.com', 'password1')).body;
    const second = await startAuth(t.app, { dataDir: t.dataDir });
    try {
      assert.equal(await bearerWorks(second.auth, access_token), true);
      assert.equal((await api(second.auth, 'POST', '/auth/session', { token: refresh_token })).status, 201);
      // Logging out on one instance revokes on the other.
      assert.equal((await api(second.auth, 'DELETE', '/auth/session', { token: refresh_token })).status, 204);
      assert.equal(await bearerWorks(t.auth, access_token), false);
    } finally {
      await second.auth.close();
    }
    // A fresh data dir has its own key: the old token means nothing there.
    const elsewhere = await startAuth(t.app);
    try {
      assert.equal(await bearerWorks(elsewhere.auth, access_token), false);
    } finally {
      await elsewhere.auth.close();
    }
  });

  test('a session looked up for a Bearer token is reused briefly; changes made elsewhere apply within that time', async () => {
    const cached = await startAuth(t.app, { dataDir: t.dataDir, sessionCacheMs: 300 });
    try {
      const admin = await AuthAdmin.open(t.app, t.dataDir);
      const u = await admin.createUser('cache@example.com', 'password1');
      const { access_token, refresh_token } = (await loginUserpass(cached.auth, 'cache@example.com', 'password1')).body;
      assert.equal(await bearerWorks(cached.auth, access_token), true);
      await admin.setUserDisabled(u.id, true);
      await admin.close();
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(await bearerWorks(cached.auth, access_token), false, 'refused once the remembered session is older than the cache time');
      // A logout on this instance is immediate.
      await (async () => {
        const a2 = await AuthAdmin.open(t.app, t.dataDir);
        await a2.setUserDisabled(u.id, false);
        await a2.close();
      })();
      const s2 = (await loginUserpass(cached.auth, 'cache@example.com', 'password1')).body;
      assert.equal(await bearerWorks(cached.auth, s2.access_token), true);
      assert.equal((await api(cached.auth, 'DELETE', '/auth/session', { token: s2.refresh_token })).status, 204);
      assert.equal(await bearerWorks(cached.auth, s2.access_token), false);
      void refresh_token;
    } finally {
      await cached.auth.close();
    }
  });

  test('a signing key given by flag replaces the stored one and must be long enough', async () => {
    const a = await startAuth(t.app, { dataDir: t.dataDir, signingKey: 'k'.repeat(40) });
    try {
      const { access_token } = (await loginUserpass(a.auth, 'tok@example.com', 'password1')).body;
      assert.equal(await bearerWorks(a.auth, access_token), true);
      assert.equal(await bearerWorks(t.auth, access_token), false, 'the stored key does not verify it');
    } finally {
      await a.auth.close();
    }
    await assert.rejects(startAuth(t.app, { dataDir: t.dataDir, signingKey: 'short' }), /at least 32 characters/);
  });
});
