// The App Services browser SDK (realm-web, unchanged) pointed at a real Atrium with `baseUrl`: register, log in with
// each provider, refresh (including the SDK's own refresh-and-retry on a rejected access token), call a function,
// call an endpoint with the SDK user's access token, user API keys, log out, delete the user.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { SignJWT } from 'jose';
import * as Realm from 'realm-web';
import { REPO_ROOT, runCli, startAtrium } from '../helpers/server';
import type { RunningServer } from '../helpers/server';

const APP_DIR = path.join(REPO_ROOT, 'test', 'auth', 'app-fixture');
const JWT_KEY = 'jwt-signing-key-for-the-realm-web-test-0123456789';
let srv: RunningServer;
let app: Realm.App;
let serverKey: string;

async function callEndpoint(route: string, token: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${srv.endpointBase}${route}`, { headers: { Authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

before(async () => {
  srv = await startAtrium(APP_DIR, { env: { ATRIUM_SECRET_JWTSIGNINGKEY: JWT_KEY }, args: ['--workers', '1', '--log-format', 'none'] });
  const created = await runCli(['apikeys', 'create', APP_DIR, '--name', 'sdk-server-key', '--data-dir', srv.dataDir]);
  assert.equal(created.code, 0, created.stderr);
  serverKey = created.stdout.trimEnd().split('\n').pop()!;
  app = new Realm.App({ id: srv.appId, baseUrl: srv.url });
});

after(async () => {
  for (const u of Object.values(app?.allUsers ?? {})) if (u.isLoggedIn) await u.logOut().catch(() => undefined);
  await srv?.stop();
});

describe('realm-web against Atrium', () => {
  test('register, log in with email/password, profile, call a function, call an endpoint', async () => {
    await app.emailPasswordAuth.registerUser({ email: 'sdk@example.com', password: 'sdk-pass-1' });
    const user = await app.logIn(Realm.Credentials.emailPassword('sdk@example.com', 'sdk-pass-1'));
    assert.match(user.id, /^[0-9a-f]{24}$/);
    assert.equal(user.profile.email, 'sdk@example.com');
    assert.equal(user.providerType, 'local-userpass');
    assert.deepEqual(user.identities.map((i) => i.providerType), ['local-userpass']);

    const result = (await user.functions.sum(20, 22)) as { sum: unknown; caller: string };
    assert.equal(Number(result.sum), 42);
    assert.equal(result.caller, user.id);
    await assert.rejects(user.callFunction('privateFn'), /function not found/);

    const who = await callEndpoint('/whoami', user.accessToken!);
    assert.equal(who.status, 200);
    assert.equal(who.body.id, user.id);
    assert.deepEqual(who.body.providers, ['local-userpass']);
  });

  test('refresh: explicit, and automatic when the server rejects the access token', async () => {
    const user = app.currentUser!;
    const before = user.accessToken;
    await new Promise((r) => setTimeout(r, 1100)); // a new iat, so a new token
    await user.refreshAccessToken();
    assert.notEqual(user.accessToken, before);
    assert.equal((await callEndpoint('/whoami', user.accessToken!)).status, 200);
    // A rejected access token: the SDK refreshes with its refresh token and retries by itself.
    user.accessToken = `${before!.slice(0, -4)}AAAA`;
    const result = (await user.callFunction('sum', 1, 1)) as { caller: string };
    assert.equal(result.caller, user.id);
    assert.notEqual(user.accessToken, `${before!.slice(0, -4)}AAAA`);
  });

  test('anonymous, API key (server and user keys), custom JWT and custom function logins', async () => {
    const anon = await app.logIn(Realm.Credentials.anonymous());
    assert.equal(anon.providerType, 'anon-user');
    assert.equal((await callEndpoint('/whoami', anon.accessToken!)).body.id, anon.id);

    const server = await app.logIn(Realm.Credentials.apiKey(serverKey));
    assert.equal((await callEndpoint('/whoami', server.accessToken!)).body.type, 'server');

    const owner = await app.logIn(Realm.Credentials.emailPassword('sdk@example.com', 'sdk-pass-1'));
    const key = await owner.apiKeys.create('sdk-user-key');
    assert.match(key.key, /^[A-Za-z0-9]{64}$/);
    assert.deepEqual((await owner.apiKeys.fetchAll()).map((k) => k.name), ['sdk-user-key']);
    const viaKey = await app.logIn(Realm.Credentials.apiKey(key.key));
    assert.equal(viaKey.id, owner.id, 'a user API key logs in as its owner');
    await owner.apiKeys.disable(key._id);
    await assert.rejects(app.logIn(Realm.Credentials.apiKey(key.key)), /401|invalid|disabled/i);
    await owner.apiKeys.delete(key._id);
    assert.deepEqual(await owner.apiKeys.fetchAll(), []);

    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ name: 'Jwt Person' }).setProtectedHeader({ alg: 'HS256' }).setSubject('sdk-jwt-1').setAudience(srv.appId).setIssuedAt(now).setExpirationTime(now + 600).sign(new TextEncoder().encode(JWT_KEY));
    const jwtUser = await app.logIn(Realm.Credentials.jwt(token));
    assert.equal(jwtUser.profile.name, 'Jwt Person');
    assert.equal((await callEndpoint('/whoami', jwtUser.accessToken!)).body.id, jwtUser.id);

    const fnUser = await app.logIn(Realm.Credentials.function({ user: 'grace', pin: '1234' }));
    assert.equal(fnUser.profile.name, 'Function grace');
    await assert.rejects(app.logIn(Realm.Credentials.function({ user: 'grace', pin: '9' })), /wrong pin/);
  });

  test('an anonymous user links email/password credentials and keeps its id', async () => {
    const anon = await app.logIn(Realm.Credentials.anonymous(false));
    await app.emailPasswordAuth.registerUser({ email: 'linked@example.com', password: 'linked-pass' });
    await anon.linkCredentials(Realm.Credentials.emailPassword('linked@example.com', 'linked-pass'));
    assert.deepEqual(anon.identities.map((i) => i.providerType).sort(), ['anon-user', 'local-userpass']);
    const again = await app.logIn(Realm.Credentials.emailPassword('linked@example.com', 'linked-pass'));
    assert.equal(again.id, anon.id);
  });

  test('log out revokes the session; deleting a user removes it', async () => {
    const user = await app.logIn(Realm.Credentials.emailPassword('sdk@example.com', 'sdk-pass-1'));
    const refreshToken = user.refreshToken!;
    const accessToken = user.accessToken!;
    await user.logOut();
    const res = await fetch(`${srv.url}/api/client/v2.0/auth/session`, { method: 'POST', headers: { Authorization: `Bearer ${refreshToken}` } });
    assert.equal(res.status, 401);
    assert.equal((await callEndpoint('/whoami', accessToken)).status, 401);

    await app.emailPasswordAuth.registerUser({ email: 'gone@example.com', password: 'gone-pass-1' });
    const gone = await app.logIn(Realm.Credentials.emailPassword('gone@example.com', 'gone-pass-1'));
    await app.deleteUser(gone);
    await assert.rejects(app.logIn(Realm.Credentials.emailPassword('gone@example.com', 'gone-pass-1')), /invalid username\/password/);
  });
});
