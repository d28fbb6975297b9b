// Application auth through the real `atrium serve` (child process on 127.0.0.1, real worker pool, real SQLite):
// every provider's login, every endpoint credential header, the §8.3 errors, run-as modes, can_evaluate,
// refresh/logout, throttling, functions/call, and the CLI working on a running server's data dir.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as path from 'node:path';
import { SignJWT } from 'jose';
import { REPO_ROOT, runCli, startAtrium } from '../helpers/server';
import type { RunningServer } from '../helpers/server';

const APP_DIR = path.join(REPO_ROOT, 'test', 'auth', 'app-fixture');
const JWT_KEY = 'jwt-signing-key-for-the-http-tests-0123456789';
let srv: RunningServer;

interface Res {
  status: number;
  headers: Headers;
  body: any;
}

async function send(url: string, init: RequestInit = {}): Promise<Res> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}
const client = (sub: string): string => `${srv.url}/api/client/v2.0/app/${srv.appId}${sub}`;
const post = (url: string, body: unknown, headers: Record<string, string> = {}): Promise<Res> =>
  send(url, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json', ...headers } });
const endpoint = (route: string, headers: Record<string, string> = {}): Promise<Res> => send(`${srv.endpointBase}${route}`, { headers });

/** A raw request, for header lists fetch would merge (the same header twice). */
function rawGet(route: string, headers: Array<[string, string]>): Promise<Res> {
  const u = new URL(`${srv.endpointBase}${route}`);
  return new Promise((resolve, reject) => {
    // Raw header arrays get no default Host header; add it.
    const flat: string[] = ['Host', u.host, ...headers.flat()];
    const r = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'GET', headers: flat }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: new Headers(), body: text ? JSON.parse(text) : null }));
    });
    r.on('error', reject);
    r.end();
  });
}

async function jwt(sub: string, extra: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ name: `JWT ${sub}`, ...extra }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setAudience(srv.appId).setIssuedAt(now).setExpirationTime(now + 600).sign(new TextEncoder().encode(JWT_KEY));
}

let userpass: { access_token: string; refresh_token: string; user_id: string };
let serverKey: string;

before(async () => {
  srv = await startAtrium(APP_DIR, { env: { ATRIUM_SECRET_JWTSIGNINGKEY: JWT_KEY }, args: ['--workers', '1', '--log-format', 'none'] });
  assert.equal((await post(client('/auth/providers/local-userpass/register'), { email: 'web@example.com', password: 'web-pass-1' })).status, 201);
  const login = await post(client('/auth/providers/local-userpass/login'), { username: 'web@example.com', password: 'web-pass-1' });
  assert.equal(login.status, 200);
  userpass = login.body;
  // The CLI works on the running server's data dir (shared SQLite store).
  const created = await runCli(['apikeys', 'create', APP_DIR, '--name', 'http-tests', '--data-dir', srv.dataDir]);
  assert.equal(created.code, 0, created.stderr);
  serverKey = created.stdout.trimEnd().split('\n').pop()!;
});

after(async () => {
  await srv?.stop();
});

describe('logins over HTTP, one per provider', () => {
  test('local-userpass', () => {
    assert.match(userpass.user_id, /^[0-9a-f]{24}$/);
  });

  test('anon-user', async () => {
    const r = await post(client('/auth/providers/anon-user/login'), {});
    assert.equal(r.status, 200);
    assert.equal(typeof r.body.refresh_token, 'string');
  });

  test('api-key (a server key created by the CLI)', async () => {
    const r = await post(client('/auth/providers/api-key/login'), { key: serverKey });
    assert.equal(r.status, 200);
    const who = await endpoint('/whoami', { Authorization: `Bearer ${r.body.access_token}` });
    assert.equal(who.body.type, 'server');
  });

  test('custom-token', async () => {
    const r = await post(client('/auth/providers/custom-token/login'), { token: await jwt('ext-1') });
    assert.equal(r.status, 200);
    const who = await endpoint('/whoami', { Authorization: `Bearer ${r.body.access_token}` });
    assert.deepEqual(who.body.data, { name: 'JWT ext-1' });
    assert.deepEqual(who.body.providers, ['custom-token']);
  });

  test('custom-function (the auth function runs in the worker pool)', async () => {
    const r = await post(client('/auth/providers/custom-function/login'), { user: 'ada', pin: '1234' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const who = await endpoint('/whoami', { Authorization: `Bearer ${r.body.access_token}` });
    assert.deepEqual(who.body.data, { name: 'Function ada' });
    const refused = await post(client('/auth/providers/custom-function/login'), { user: 'ada', pin: '0' });
    assert.equal(refused.status, 401);
    assert.match(refused.body.error, /wrong pin/);
  });
});

describe('endpoint credentials over HTTP', () => {
  test('Bearer, email+password, apiKey, api-key and jwtTokenString each identify the caller', async () => {
    const bearer = await endpoint('/whoami', { Authorization: `Bearer ${userpass.access_token}` });
    assert.equal(bearer.status, 200);
    assert.deepEqual(bearer.body, { id: userpass.user_id, type: 'normal', data: { email: 'web@example.com' }, providers: ['local-userpass'], system: false });
    const pw = await endpoint('/whoami', { email: 'web@example.com', password: 'web-pass-1' });
    assert.equal(pw.body.id, userpass.user_id);
    for (const h of ['apiKey', 'api-key']) {
      const k = await endpoint('/whoami', { [h]: serverKey });
      assert.equal(k.status, 200, h);
      assert.equal(k.body.type, 'server');
    }
    const token = await jwt('ext-http-new');
    const noUser = await endpoint('/whoami', { jwtTokenString: token });
    assert.deepEqual([noUser.status, noUser.body.error_code, noUser.body.error], [401, 'InvalidSession', 'invalid session: error finding user for endpoint']);
    const created = await endpoint('/whoami-create', { jwtTokenString: token });
    assert.equal(created.status, 200);
    assert.deepEqual(created.body.providers, ['custom-token']);
    assert.equal((await endpoint('/whoami', { jwtTokenString: token })).body.id, created.body.id);
  });

  test('an API key header keeps working across requests; disabled, it is refused (at once here, within ~1 s from the CLI)', async () => {
    // A user key, made and disabled through this server's client API: refused at the very next request.
    const owner = { Authorization: `Bearer ${userpass.access_token}` };
    const made = await send(`${srv.url}/api/client/v2.0/auth/api_keys`, { method: 'POST', headers: { ...owner, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'remembered' }) });
    assert.equal(made.status, 201);
    const userKey = made.body.key as string;
    for (let i = 0; i < 3; i++) assert.equal((await endpoint('/whoami', { apiKey: userKey })).body.id, userpass.user_id);
    assert.equal((await send(`${srv.url}/api/client/v2.0/auth/api_keys/${made.body._id}/disable`, { method: 'PUT', headers: owner })).status, 204);
    const refused = await endpoint('/whoami', { apiKey: userKey });
    assert.deepEqual([refused.status, refused.body.error_code], [401, 'InvalidSession']);

    // A server key disabled by the CLI (another process): this server notices once its memory of the key lapses.
    const named = await runCli(['apikeys', 'create', APP_DIR, '--name', 'cli-disabled', '--data-dir', srv.dataDir]);
    const cliKey = named.stdout.trimEnd().split('\n').pop()!;
    assert.equal((await endpoint('/whoami', { apiKey: cliKey })).status, 200);
    assert.equal((await runCli(['apikeys', 'disable', APP_DIR, 'cli-disabled', '--data-dir', srv.dataDir])).code, 0);
    let status = 200;
    for (let i = 0; i < 100 && status === 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await endpoint('/whoami', { apiKey: cliKey })).status;
    }
    assert.equal(status, 401);
  });

  test('a function that changes context.user changes nothing for the next request of the same session', async () => {
    const auth = { Authorization: `Bearer ${userpass.access_token}` };
    for (let i = 0; i < 3; i++) {
      const r = await endpoint('/touch-user', auth);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { id: userpass.user_id, email: 'web@example.com', identities: 1 });
    }
    const who = await endpoint('/whoami', auth);
    assert.deepEqual(who.body.providers, ['local-userpass']);
    assert.equal(who.body.data.email, 'web@example.com');
  });

  test('§8.3 errors: none, partial, invalid Bearer without fallback, wrong password', async () => {
    const none = await endpoint('/whoami');
    assert.deepEqual([none.status, none.body.error_code, none.body.error], [400, 'InvalidParameter', 'no authentication methods were specified']);
    assert.match(none.body.link, /\/_atrium\/logs\//);
    const partial = await endpoint('/whoami', { email: 'web@example.com' });
    assert.deepEqual([partial.status, partial.body.error_code], [400, 'MissingParameter']);
    const bad = await endpoint('/whoami', { Authorization: 'Bearer not-a-token', apiKey: serverKey });
    assert.deepEqual([bad.status, bad.body.error_code], [401, 'InvalidSession']);
    const wrong = await endpoint('/whoami', { email: 'web@example.com', password: 'nope-nope' });
    assert.equal(wrong.status, 401);
  });

  test('a credential header sent twice with different values is refused (400)', async () => {
    const r = await rawGet('/whoami', [['apiKey', serverKey], ['apiKey', 'something-else']]);
    assert.deepEqual([r.status, r.body.error_code], [400, 'InvalidParameter']);
    const same = await rawGet('/whoami', [['apiKey', serverKey], ['apiKey', serverKey]]);
    assert.equal(same.status, 200);
  });

  test('run_as_system and run_as_user_id_script_source', async () => {
    const sys = await endpoint('/system');
    assert.equal(sys.status, 200);
    assert.equal(sys.body.system, true);
    const asUser = await endpoint('/scripted', { 'X-Run-As': userpass.user_id });
    assert.equal(asUser.status, 200, JSON.stringify(asUser.body));
    assert.equal(asUser.body.id, userpass.user_id);
    assert.equal(asUser.body.system, false);
    const asSystem = await endpoint('/scripted');
    assert.equal(asSystem.body.system, true);
    const unknown = await endpoint('/scripted', { 'X-Run-As': '5f5f5f5f5f5f5f5f5f5f5f5f' });
    assert.equal(unknown.status, 401);
  });

  test('can_evaluate with %%request headers', async () => {
    const auth = { Authorization: `Bearer ${userpass.access_token}` };
    assert.equal((await endpoint('/guarded', { ...auth, 'x-secret-key': 'let-me-in' })).status, 200);
    const denied = await endpoint('/guarded', { ...auth, 'x-secret-key': 'nope' });
    assert.deepEqual([denied.status, denied.body.error_code], [403, 'FunctionNotCallable']);
  });
});

describe('client API over HTTP', () => {
  test('profile, refresh, logout (the refresh token stops working at once)', async () => {
    const s = (await post(client('/auth/providers/local-userpass/login'), { username: 'web@example.com', password: 'web-pass-1' })).body;
    const profile = await send(`${srv.url}/api/client/v2.0/auth/profile`, { headers: { Authorization: `Bearer ${s.access_token}` } });
    assert.equal(profile.body.user_id, userpass.user_id);
    const refreshed = await send(`${srv.url}/api/client/v2.0/auth/session`, { method: 'POST', headers: { Authorization: `Bearer ${s.refresh_token}` } });
    assert.equal(refreshed.status, 201);
    assert.equal((await endpoint('/whoami', { Authorization: `Bearer ${refreshed.body.access_token}` })).status, 200);
    const out = await send(`${srv.url}/api/client/v2.0/auth/session`, { method: 'DELETE', headers: { Authorization: `Bearer ${s.refresh_token}` } });
    assert.equal(out.status, 204);
    assert.equal((await send(`${srv.url}/api/client/v2.0/auth/session`, { method: 'POST', headers: { Authorization: `Bearer ${s.refresh_token}` } })).status, 401);
    assert.equal((await endpoint('/whoami', { Authorization: `Bearer ${refreshed.body.access_token}` })).status, 401);
  });

  test('functions/call: non-private functions as the caller; private ones are not found', async () => {
    const r = await post(client('/functions/call'), { name: 'sum', arguments: [2, 3] }, { Authorization: `Bearer ${userpass.access_token}` });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.caller, userpass.user_id);
    assert.equal(Number(r.body.sum.$numberLong ?? r.body.sum.$numberInt ?? r.body.sum.$numberDouble ?? r.body.sum), 5);
    const priv = await post(client('/functions/call'), { name: 'privateFn', arguments: [] }, { Authorization: `Bearer ${userpass.access_token}` });
    assert.deepEqual([priv.status, priv.body.error_code], [404, 'FunctionNotFound']);
  });

  test('location points the SDK back at this server', async () => {
    const r = await send(client('/location'));
    assert.equal(r.body.hostname, srv.url);
  });

  test('repeated wrong passwords for one account answer 429 with Retry-After', async () => {
    await post(client('/auth/providers/local-userpass/register'), { email: 'brute@example.com', password: 'brute-pass' });
    let last: Res | null = null;
    for (let i = 0; i < 12; i++) {
      last = await post(client('/auth/providers/local-userpass/login'), { username: 'brute@example.com', password: `guess-${i}` });
      if (last.status === 429) break;
    }
    assert.equal(last!.status, 429);
    assert.ok(Number(last!.headers.get('retry-after')) > 0);
    assert.equal(last!.body.error_code, 'TooManyRequests');
    // The right password is refused too while the account is throttled.
    assert.equal((await post(client('/auth/providers/local-userpass/login'), { username: 'brute@example.com', password: 'brute-pass' })).status, 429);
  });
});
