// `atrium users ...` and `atrium apikeys ...` run as real processes against a data dir; their effect is checked
// through an AuthService on the same store.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { loadApp } from '../../src/app';
import type { AppDefinition } from '../../src/app';
import { REPO_ROOT, runCli } from '../helpers/server';
import { api, startAuth, tempDir } from './fixtures';
import type { TestAuth } from './fixtures';

const APP_DIR = path.join(REPO_ROOT, 'test', 'auth', 'app-fixture');
let dataDir: string;
let app: AppDefinition;
let t: TestAuth;

const cli = (...args: string[]): ReturnType<typeof runCli> => runCli([...args, '--data-dir', dataDir]);
const appApi = (method: string, sub: string, init: Parameters<typeof api>[3] = {}): ReturnType<typeof api> =>
  t.auth.handleClientApi(method, `/api/client/v2.0/app/${app.appId}${sub}`, {
    method,
    path: `/api/client/v2.0/app/${app.appId}${sub}`,
    rawQuery: '',
    headers: [],
    body: init.body === undefined ? undefined : new TextEncoder().encode(JSON.stringify(init.body)),
    remoteIp: '127.0.0.1',
    baseUrl: 'http://127.0.0.1',
  }) as ReturnType<typeof api>;

before(async () => {
  dataDir = tempDir();
  app = loadApp(APP_DIR, { secrets: { jwtSigningKey: 'x'.repeat(40) } });
  t = await startAuth(app, { dataDir });
});

after(async () => {
  await t.auth.close();
});

describe('atrium users', () => {
  test('create makes a confirmed user who can log in; list shows it', async () => {
    const r = await cli('users', 'create', APP_DIR, '--email', 'cli@example.com', '--password', 'cli-pass-1');
    assert.equal(r.code, 0, r.stderr);
    const id = /Created user ([0-9a-f]{24})/.exec(r.stdout)?.[1];
    assert.ok(id, r.stdout);
    const login = await appApi('POST', '/auth/providers/local-userpass/login', { body: { username: 'cli@example.com', password: 'cli-pass-1' } });
    assert.equal(login.status, 200);
    assert.equal((login.body as { user_id: string }).user_id, id);

    const list = await cli('users', 'list', APP_DIR);
    assert.equal(list.code, 0);
    assert.match(list.stdout, new RegExp(`${id}  normal  enabled  local-userpass  cli@example.com`));
    const json = JSON.parse((await cli('users', 'list', APP_DIR, '--json')).stdout) as Array<{ id: string; email: string; last_login: string | null }>;
    const me = json.find((u) => u.id === id)!;
    assert.equal(me.email, 'cli@example.com');
    assert.ok(me.last_login, 'the login was recorded');
  });

  test('the password can come from stdin; bad input fails clearly and leaves nothing behind', async () => {
    const r = await runCli(['users', 'create', APP_DIR, '--email', 'stdin@example.com', '--password-stdin', '--data-dir', dataDir], { input: 'from-stdin-pw\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await appApi('POST', '/auth/providers/local-userpass/login', { body: { username: 'stdin@example.com', password: 'from-stdin-pw' } })).status, 200);
    const dup = await cli('users', 'create', APP_DIR, '--email', 'STDIN@example.com', '--password', 'whatever1');
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /name already in use/);
    const short = await cli('users', 'create', APP_DIR, '--email', 'short@example.com', '--password', 'abc');
    assert.equal(short.code, 1);
    assert.match(short.stderr, /between 6 and 128 characters/);
    assert.doesNotMatch((await cli('users', 'list', APP_DIR)).stdout, /short@example.com/);
    const noEmail = await cli('users', 'create', APP_DIR, '--password', 'abcdefg');
    assert.equal(noEmail.code, 2);
    assert.match(noEmail.stderr, /needs --email/);
    assert.equal((await cli('users', 'frobnicate', APP_DIR)).code, 2);
    const noApp = await cli('users', 'list', path.join(dataDir, 'nope'));
    assert.equal(noApp.code, 1);
    assert.match(noApp.stderr, /does not exist/);
  });

  test('disable ends sessions and refuses logins; enable restores; delete removes', async () => {
    await cli('users', 'create', APP_DIR, '--email', 'dis@example.com', '--password', 'dis-pass-1');
    const session = (await appApi('POST', '/auth/providers/local-userpass/login', { body: { username: 'dis@example.com', password: 'dis-pass-1' } })).body as { refresh_token: string };
    assert.equal((await cli('users', 'disable', APP_DIR, 'dis@example.com')).code, 0);
    const refused = await appApi('POST', '/auth/providers/local-userpass/login', { body: { username: 'dis@example.com', password: 'dis-pass-1' } });
    assert.deepEqual([refused.status, (refused.body as { error_code: string }).error_code], [401, 'UserDisabled']);
    assert.equal((await api(t.auth, 'POST', '/auth/session', { token: session.refresh_token })).status, 401);
    assert.match((await cli('users', 'list', APP_DIR)).stdout, /disabled  local-userpass  dis@example.com/);
    assert.equal((await cli('users', 'enable', APP_DIR, 'dis@example.com')).code, 0);
    assert.equal((await appApi('POST', '/auth/providers/local-userpass/login', { body: { username: 'dis@example.com', password: 'dis-pass-1' } })).status, 200);
    assert.equal((await cli('users', 'delete', APP_DIR, 'dis@example.com')).code, 0);
    assert.equal((await appApi('POST', '/auth/providers/local-userpass/login', { body: { username: 'dis@example.com', password: 'dis-pass-1' } })).status, 401);
    const gone = await cli('users', 'delete', APP_DIR, 'dis@example.com');
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /no user/);
  });

  test('confirm confirms a pending registration', async () => {
    const pendingApp = loadApp(APP_DIR, { secrets: {} });
    pendingApp.authProviders['local-userpass'].config = { autoConfirm: false };
    const t3 = await startAuth(pendingApp, { dataDir });
    try {
      const p = `/api/client/v2.0/app/${pendingApp.appId}/auth/providers/local-userpass/register`;
      const body = new TextEncoder().encode(JSON.stringify({ email: 'pend@example.com', password: 'pend-pass' }));
      const reg = await t3.auth.handleClientApi('POST', p, { method: 'POST', path: p, rawQuery: '', headers: [], body, remoteIp: '127.0.0.1', baseUrl: '' });
      assert.equal(reg?.status, 201);
    } finally {
      await t3.auth.close();
    }
    assert.equal((await appApi('POST', '/auth/providers/local-userpass/login', { body: { username: 'pend@example.com', password: 'pend-pass' } })).status, 401);
    assert.match((await cli('users', 'list', APP_DIR)).stdout, /-  normal  pending  local-userpass  pend@example.com/);
    const r = await cli('users', 'confirm', APP_DIR, 'pend@example.com');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await appApi('POST', '/auth/providers/local-userpass/login', { body: { username: 'pend@example.com', password: 'pend-pass' } })).status, 200);
    assert.doesNotMatch((await cli('users', 'list', APP_DIR)).stdout, /pending/);
  });
});

describe('atrium apikeys', () => {
  test('create prints the key once, as the last line; it logs in; list never shows it', async () => {
    const r = await cli('apikeys', 'create', APP_DIR, '--name', 'deploy bot');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    const key = lines[lines.length - 1];
    assert.match(key, /^[A-Za-z0-9]{64}$/);
    const login = await appApi('POST', '/auth/providers/api-key/login', { body: { key } });
    assert.equal(login.status, 200);
    const list = await cli('apikeys', 'list', APP_DIR);
    assert.match(list.stdout, /deploy bot  enabled/);
    assert.ok(!list.stdout.includes(key));
    const json = JSON.parse((await cli('apikeys', 'list', APP_DIR, '--json')).stdout) as Array<{ name: string }>;
    assert.deepEqual(json.map((k) => k.name), ['deploy bot']);
    const dup = await cli('apikeys', 'create', APP_DIR, '--name', 'deploy bot');
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /already exists/);
    assert.equal((await cli('apikeys', 'create', APP_DIR)).code, 2);

    assert.equal((await cli('apikeys', 'disable', APP_DIR, 'deploy bot')).code, 0);
    assert.equal((await appApi('POST', '/auth/providers/api-key/login', { body: { key } })).status, 401);
    assert.equal((await cli('apikeys', 'enable', APP_DIR, 'deploy bot')).code, 0);
    assert.equal((await appApi('POST', '/auth/providers/api-key/login', { body: { key } })).status, 200);
    assert.equal((await cli('apikeys', 'delete', APP_DIR, 'deploy bot')).code, 0);
    assert.equal((await appApi('POST', '/auth/providers/api-key/login', { body: { key } })).status, 401);
    assert.match((await cli('apikeys', 'list', APP_DIR)).stdout, /No API keys/);
    assert.equal((await cli('apikeys', 'delete', APP_DIR, 'deploy bot')).code, 1);
  });
});
