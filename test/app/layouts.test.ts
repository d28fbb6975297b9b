// Item 1 (layouts, app identity, deployment) and item 10 (allowed_request_origins).
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadApp } from '../../src/app';
import { copyFixture, fixture, noErrors, oneProblem, tempDir, write } from './helpers';

test('realm-cli v2: realm_config.json gives app id, name, deployment, config version and origins', () => {
  const app = loadApp(fixture('realm-v2'), { secrets: { querySecret: 'q', 'sign-key': 's', 'my-api-key': 'k', jwt_signing_key: 'j' } });
  assert.equal(app.layout, 'realm-cli-v2');
  assert.equal(app.dir, fixture('realm-v2'));
  assert.equal(app.appId, 'realmv2-abcde');
  assert.equal(app.name, 'realm-v2');
  assert.equal(app.configVersion, 20210101);
  assert.deepEqual(app.deployment, { model: 'GLOBAL', providerRegion: '', location: 'US-VA' });
  assert.equal(app.internalId, '');
  assert.equal(app.groupId, '');
  assert.deepEqual(app.allowedRequestOrigins, ['https://example.com', 'http://localhost:3000']);
  noErrors(app);
});

test('App Services CLI: client_app_id, app_id and group_id come from .mdb/meta.json; root_config.json wins over realm_config.json', () => {
  const app = loadApp(fixture('cli-2023'));
  assert.equal(app.layout, 'appservices-cli');
  assert.equal(app.appId, 'cliapp-qwert'); // not realm_config.json's stale app_id
  assert.equal(app.internalId, '65a1b2c3d4e5f60718293a4b');
  assert.equal(app.groupId, '64f0e1d2c3b4a59687786950');
  assert.equal(app.name, 'cli-app');
  assert.equal(app.configVersion, 20230101);
  assert.deepEqual(app.deployment, { model: 'LOCAL', providerRegion: 'aws-eu-west-1', location: 'IE' });
  assert.deepEqual(app.allowedRequestOrigins, ['https://app.example.org']);
});

test('app id falls back to root app_id, then name, then the directory name', () => {
  const dir = copyFixture('cli-2023');
  write(dir, '.mdb/meta.json', { config_version: 20230101, app_id: '65a1b2c3d4e5f60718293a4b' }); // no client_app_id
  assert.equal(loadApp(dir).appId, 'stale-id-xxxxx'); // realm_config.json app_id (root_config.json has none)
  write(dir, 'realm_config.json', { name: 'cli-app' });
  assert.equal(loadApp(dir).appId, 'cli-app');
  write(dir, 'root_config.json', {});
  write(dir, 'realm_config.json', {});
  const app = loadApp(dir);
  assert.equal(app.appId, 'cli-2023');
  assert.equal(app.name, 'cli-2023');
});

test('Stitch: stitch.json, origins under security', () => {
  const app = loadApp(fixture('stitch-legacy'));
  assert.equal(app.layout, 'stitch');
  assert.equal(app.appId, 'stitchapp-lmnop');
  assert.equal(app.configVersion, 20180301);
  assert.deepEqual(app.allowedRequestOrigins, ['https://legacy.example.com']);
});

test('realm-cli v1: config.json at the root', () => {
  const dir = tempDir();
  write(dir, 'config.json', { app_id: 'v1app-aaaaa', config_version: 20200603, name: 'v1app', location: 'US-OR', deployment_model: 'LOCAL' });
  write(dir, 'functions/hello/config.json', { name: 'hello', private: false });
  write(dir, 'functions/hello/source.js', 'exports = () => 1;\n');
  const app = loadApp(dir);
  assert.equal(app.layout, 'realm-cli-v1');
  assert.equal(app.appId, 'v1app-aaaaa');
  assert.equal(app.configVersion, 20200603);
  assert.deepEqual(app.deployment, { model: 'LOCAL', providerRegion: '', location: 'US-OR' });
  assert.ok(app.functions.hello);
});

test('bare: only functions/ and http_endpoints/, the directory name is the app id', () => {
  const app = loadApp(fixture('bare'));
  assert.equal(app.layout, 'bare');
  assert.equal(app.appId, 'bare');
  assert.equal(app.name, 'bare');
  assert.equal(app.endpoints.length, 1);
  assert.deepEqual(app.allowedRequestOrigins, []);
  assert.equal(app.deployment.model, 'GLOBAL');
  noErrors(app);
});

test('loadApp throws, naming the directory, only when there is no app', () => {
  const missing = path.join(tempDir(), 'nope');
  assert.throws(() => loadApp(missing), (err: Error) => err.message.includes(missing) && /does not exist/.test(err.message));
  const empty = tempDir();
  write(empty, 'README.md', 'not an app');
  assert.throws(() => loadApp(empty), (err: Error) => err.message.includes(empty) && /does not contain an App Services app/.test(err.message));
  const file = path.join(empty, 'README.md');
  assert.throws(() => loadApp(file), (err: Error) => err.message.includes(file) && /not a directory/.test(err.message));
});

test('a broken root config is a problem, not a failure', () => {
  const dir = copyFixture('realm-v2');
  write(dir, 'realm_config.json', '{"app_id": "x",, }');
  const app = loadApp(dir);
  const p = oneProblem(app, { level: 'error', file: 'realm_config.json' });
  assert.match(p.message, /invalid JSON at line 1, column 16/);
  assert.equal(app.appId, 'realm-v2'); // directory name
  assert.ok(app.endpoints.length > 0, 'endpoints still load');
});

test('allowed_request_origins with a non-string entry keeps the strings and reports the entry', () => {
  const dir = copyFixture('realm-v2');
  write(dir, 'realm_config.json', { app_id: 'x-1', name: 'x', allowed_request_origins: ['https://a.example', 7] });
  const app = loadApp(dir);
  assert.deepEqual(app.allowedRequestOrigins, ['https://a.example']);
  oneProblem(app, { level: 'error', file: 'realm_config.json', field: 'allowed_request_origins[1]' });
});

test('the loaded app survives structured clone (it is handed to worker threads)', () => {
  for (const name of ['realm-v2', 'cli-2023', 'stitch-legacy', 'bare', 'broken']) {
    const app = loadApp(fixture(name));
    assert.deepStrictEqual(structuredClone(app), app, name);
  }
});
