// §9.1/§9.2 through AuthService with a real SQLite store: credential resolution order, the §8.3 errors, run-as modes.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { AuthAdmin } from '../../src/auth';
import type { AuthOutcome } from '../../src/http';
import type { ExecutionIdentity } from '../../src/runtime/types';
import { APP_ID, JWT_SECRET, endpoint, fn, loginUserpass, makeApp, req, startAuth } from './fixtures';
import type { TestAuth } from './fixtures';

let t: TestAuth;
let apiKey: string;
let userId: string;
let access: string;

function ok(o: AuthOutcome): ExecutionIdentity {
  if (!o.ok) assert.fail(`expected success, got ${o.status} ${o.code}: ${o.message}`);
  return o.identity;
}
function failed(o: AuthOutcome, status: number, code: string): string {
  if (o.ok) assert.fail(`expected ${status} ${code}, got success`);
  assert.equal(o.status, status, o.message);
  assert.equal(o.code, code, o.message);
  return o.message;
}

const appAuthFn = fn('hello', 'exports = () => 1;');
const ep = endpoint();

async function jwt(claims: Record<string, unknown>): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(now).setExpirationTime(now + 300).setAudience(APP_ID).sign(new TextEncoder().encode(JWT_SECRET));
}

before(async () => {
  t = await startAuth(makeApp(), { throttle: { maxFailuresPerAccount: 1000, maxFailuresPerIp: 1000 } });
  const admin = await AuthAdmin.open(t.app, t.dataDir);
  userId = (await admin.createUser('ana@example.com', 'correct horse')).id;
  apiKey = (await admin.createApiKey('backend')).secret;
  await admin.close();
  const login = await loginUserpass(t.auth, 'ana@example.com', 'correct horse');
  assert.equal(login.status, 200);
  access = login.body.access_token;
});

after(async () => {
  await t.auth.close();
});

describe('application auth: errors of §8.3', () => {
  test('no credentials -> 400 InvalidParameter', async () => {
    const msg = failed(await t.auth.resolveEndpointIdentity(appAuthFn, ep, req()), 400, 'InvalidParameter');
    assert.equal(msg, 'no authentication methods were specified');
  });

  test('email without password, or password without email -> 400 MissingParameter', async () => {
    failed(await t.auth.resolveEndpointIdentity(appAuthFn, ep, req({ headers: [['email', 'ana@example.com']] })), 400, 'MissingParameter');
    failed(await t.auth.resolveEndpointIdentity(appAuthFn, ep, req({ headers: [['Password', 'x']] })), 400, 'MissingParameter');
  });

  test('a credential header repeated with different values is refused; the same value twice is fine', async () => {
    failed(await t.auth.resolveEndpointIdentity(appAuthFn, ep, req({ headers: [['apiKey', apiKey], ['apikey', 'other']] })), 400, 'InvalidParameter');
    failed(await t.auth.resolveEndpointIdentity(appAuthFn, ep, req({ headers: [['apiKey', apiKey], ['api-key', 'other']] })), 400, 'InvalidParameter');
    failed(await t.auth.resolveEndpointIdentity(appAuthFn, ep, req({ headers: [['Authorization', `Bearer ${access}`], ['authorization', 'Bearer x']] })), 400, 'InvalidParameter');
    ok(await t.auth.resolveEndpointIdentity(appAuthFn, ep, req({ headers: [['apiKey', apiKey], ['APIKEY', apiKey]] })));
  });

  test('two different credential methods in one request are refused', async () => {
    failed(await t.auth.resolveEndpointIdentity(appAuthFn, ep, req({ headers: [['apiKey', apiKey], ['email', 'a@b.c'], ['password', 'xxxxxx']] })), 400, 'InvalidParameter');
  });

  test('valid JWT whose user does not exist, create_user_on_auth off -> 401 InvalidSession', async () => {
    const token = await jwt({ sub: 'ext-new-1', email: 'n@example.com' });
    const msg = failed(await t.auth.resolveEndpointIdentity(appAuthFn, ep, req({ headers: [['jwtTokenString', token]] })), 401, 'InvalidSession');
    assert.equal(msg, 'invalid session: error finding user for endpoint');
  });

  test('create_user_on_auth on -> the JWT user is created, with metadata in user.data', async () => {
    const token = await jwt({ sub: 'ext-new-2', email: 'm@example.com', profile: { 'display.name': 'Em' } });
    const id = ok(await t.auth.resolveEndpointIdentity(appAuthFn, endpoint({ createUserOnAuth: true }), req({ headers: [['jwtTokenString', token]] })));
    assert.equal(id.runAsSystem, false);
    assert.match(id.user!.id, /^[0-9a-f]{24}$/);
    assert.deepEqual(id.user!.data, { email: 'm@example.com', displayName: 'Em' });
    assert.deepEqual(id.user!.identities.map((i) => [i.id, i.provider_type]), [['ext-new-2', 'custom-token']]);
    // The same token later finds the same user even without create_user_on_auth.
    const again = ok(await t.auth.resolveEndpointIdentity(appAuthFn, ep, req({ headers: [['jwtTokenString', token]] })));
    assert.equal(again.user!.id, id.user!.id);
  });

  test('wrong password, unknown API key -> 401', async () => {
    failed(await t.auth.resolveEndpointIdentity(appAuthFn, ep, req({ headers: [['email', 'ana@example.com'], ['password', 'wrong password']] })), 401, 'InvalidPassword');
    failed(await t.auth.resolveEndpointIdentity(appAuthFn, ep, req({ headers: [['api-key', 'x'.repeat(64)]] })), 401, 'InvalidSession');
  });
});

describe('application auth: each credential', () => {
  test('Bearer access token', async () => {
    const id = ok(await t.auth.resolveEndpointIdentity(appAuthFn, ep, req({ headers: [['authorization', `bearer ${access}`]] })));
    assert.equal(id.user!.id, userId);
    assert.equal(id.user!.type, 'normal');
    assert.deepEqual(id.user!.data, { email: 'ana@example.com' });
    assert.equal(id.user!.identities[0].provider_type, 'local-userpass');
    assert.equal(id.runAsSystem, false);
  });

  test('an invalid Bearer token fails even when a valid API key is also sent (no fallback)', async () => {
    const msg = failed(await t.auth.resolveEndpointIdentity(appAuthFn, ep, req({ headers: [['Authorization', 'Bearer nope.nope.nope'], ['apiKey', apiKey]] })), 401, 'InvalidSession');
    assert.equal(msg, 'invalid session: error finding user for endpoint');
  });

  test('email + password headers', async () => {
    const id = ok(await t.auth.resolveEndpointIdentity(appAuthFn, ep, req({ headers: [['Email', 'ANA@example.com'], ['Password', 'correct horse']] })));
    assert.equal(id.user!.id, userId);
  });

  test('apiKey and api-key headers log in as the server user', async () => {
    for (const h of ['apiKey', 'api-key']) {
      const id = ok(await t.auth.resolveEndpointIdentity(appAuthFn, ep, req({ headers: [[h, apiKey]] })));
      assert.equal(id.user!.type, 'server');
      assert.deepEqual(id.user!.data, { name: 'backend' });
      assert.equal(id.user!.identities[0].provider_type, 'api-key');
    }
  });

  test('a credential whose provider is disabled or absent is refused', async () => {
    const app = makeApp();
    app.authProviders['api-key'] = { ...app.authProviders['api-key'], disabled: true };
    delete app.authProviders['local-userpass'];
    const t2 = await startAuth(app, { dataDir: t.dataDir });
    try {
      failed(await t2.auth.resolveEndpointIdentity(appAuthFn, ep, req({ headers: [['apiKey', apiKey]] })), 401, 'AuthProviderNotFound');
      failed(await t2.auth.resolveEndpointIdentity(appAuthFn, ep, req({ headers: [['email', 'ana@example.com'], ['password', 'correct horse']] })), 401, 'AuthProviderNotFound');
    } finally {
      await t2.auth.close();
    }
  });

  test('a disabled user is refused with every credential', async () => {
    const admin = await AuthAdmin.open(t.app, t.dataDir);
    const u = await admin.createUser('off@example.com', 'password1');
    const login = await loginUserpass(t.auth, 'off@example.com', 'password1');
    await admin.setUserDisabled(u.id, true);
    await admin.close();
    failed(await t.auth.resolveEndpointIdentity(appAuthFn, ep, req({ headers: [['email', 'off@example.com'], ['password', 'password1']] })), 401, 'UserDisabled');
    failed(await t.auth.resolveEndpointIdentity(appAuthFn, ep, req({ headers: [['Authorization', `Bearer ${login.body.access_token}`]] })), 401, 'InvalidSession');
  });
});

describe('run-as modes', () => {
  test('run_as_system needs no credentials and runs as system', async () => {
    const id = ok(await t.auth.resolveEndpointIdentity(fn('s', '', { runAsSystem: true }), ep, req()));
    assert.deepEqual(id, { user: null, runAsSystem: true });
  });

  test('run_as_user_id runs as that user; an unknown id is 401', async () => {
    const id = ok(await t.auth.resolveEndpointIdentity(fn('u', '', { runAsUserId: userId }), ep, req()));
    assert.equal(id.user!.id, userId);
    assert.equal(id.runAsSystem, false);
    failed(await t.auth.resolveEndpointIdentity(fn('u', '', { runAsUserId: '5f9999999999999999999999' }), ep, req()), 401, 'InvalidSession');
  });

  test('run_as_user_id_script_source: a user id, {runAsSystem}, {runAsSystemUser}, or anything else', async () => {
    const script = (body: string): ReturnType<typeof fn> => fn('scripted', '', { runAsUserIdScriptSource: body });
    const headerScript = script('exports = function (payload) { return payload.headers["X-User"][0]; };');
    const id = ok(await t.auth.resolveEndpointIdentity(headerScript, ep, req({ headers: [['x-user', userId]] })));
    assert.equal(id.user!.id, userId);
    // The script ran as system with the request payload; query `secret` is not passed on.
    const call = t.calls.at(-1)!;
    assert.equal(call.runAsSystem, true);
    assert.equal(call.source, headerScript.runAsUserIdScriptSource);
    const bodyScript = script('exports = function (p) { return JSON.parse(p.body.toString("utf8")).who === "sys" ? { runAsSystem: true } : { runAsSystemUser: p.query.flag === "1" }; };');
    assert.deepEqual(ok(await t.auth.resolveEndpointIdentity(bodyScript, ep, req({ method: 'POST', body: { who: 'sys' } }))), { user: null, runAsSystem: true });
    assert.deepEqual(ok(await t.auth.resolveEndpointIdentity(bodyScript, ep, req({ method: 'POST', body: { who: 'x' }, query: 'flag=1&secret=s' }))), { user: null, runAsSystem: true });
    failed(await t.auth.resolveEndpointIdentity(bodyScript, ep, req({ method: 'POST', body: { who: 'x' }, query: 'flag=0' })), 401, 'InvalidSession');
    const thrower = script('exports = function () { throw new Error("no entry"); };');
    const msg = failed(await t.auth.resolveEndpointIdentity(thrower, ep, req()), 400, 'FunctionExecutionError');
    assert.match(msg, /no entry/);
  });

  test('fetch_custom_user_data puts the custom user data document in user.custom_data', async () => {
    const docs = new Map([[userId, { _id: { $oid: '5f0000000000000000000abc' }, userId, plan: 'gold' }]]);
    const t2 = await startAuth(t.app, { dataDir: t.dataDir, customUserData: async (id) => docs.get(id) ?? null });
    try {
      const headers: Array<[string, string]> = [['email', 'ana@example.com'], ['password', 'correct horse']];
      const withData = ok(await t2.auth.resolveEndpointIdentity(appAuthFn, endpoint({ fetchCustomUserData: true }), req({ headers })));
      assert.equal(withData.user!.custom_data.plan, 'gold');
      const without = ok(await t2.auth.resolveEndpointIdentity(appAuthFn, ep, req({ headers })));
      assert.deepEqual(without.user!.custom_data, {});
    } finally {
      await t2.auth.close();
    }
  });
});

describe('can_evaluate', () => {
  const user = { user: null, runAsSystem: true };

  test('header and IP expressions, values and environment', async () => {
    const f = fn('guarded', '', {
      canEvaluate: { '%%request.requestHeaders.x-secret-key': 'my-secret', '%%request.remoteIPAddress': { $in: '%%values.allowedIps' }, '%%environment.tag': 'production' },
    });
    ok(await t.auth.checkCanEvaluate(f, user, req({ headers: [['X-Secret-Key', 'my-secret']] })));
    const denied = await t.auth.checkCanEvaluate(f, user, req({ headers: [['X-Secret-Key', 'nope']] }));
    failed(denied, 403, 'FunctionNotCallable');
    failed(await t.auth.checkCanEvaluate(f, user, req({ headers: [['X-Secret-Key', 'my-secret']], ip: '8.8.8.8' })), 403, 'FunctionNotCallable');
  });

  test('%%user and %function (run in the pool as system)', async () => {
    const login = await t.auth.resolveEndpointIdentity(appAuthFn, ep, req({ headers: [['apiKey', apiKey]] }));
    const server = ok(login);
    const onlyServers = fn('g', '', { canEvaluate: { '%%user.type': 'server' } });
    ok(await t.auth.checkCanEvaluate(onlyServers, server, req()));
    failed(await t.auth.checkCanEvaluate(onlyServers, { user: null, runAsSystem: false }, req()), 403, 'FunctionNotCallable');
    const even = (n: number): ReturnType<typeof fn> => fn('g2', '', { canEvaluate: { '%%true': { '%function': { name: 'isEven', arguments: [n] } } } });
    ok(await t.auth.checkCanEvaluate(even(4), server, req()));
    failed(await t.auth.checkCanEvaluate(even(5), server, req()), 403, 'FunctionNotCallable');
    assert.equal(t.calls.at(-1)!.functionName, 'isEven');
    assert.equal(t.calls.at(-1)!.runAsSystem, true);
  });

  test('a malformed expression is a clear 500, not an allow', async () => {
    const msg = failed(await t.auth.checkCanEvaluate(fn('bad', '', { canEvaluate: { '%%nope': 1 } }), user, req()), 500, 'InternalServerError');
    assert.match(msg, /can_evaluate expression of function "bad" is invalid/);
  });
});
