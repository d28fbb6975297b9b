// Item 5: values (incl. from_secret), environments and %(%%environment.values.x) template expansion.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadApp } from '../../src/app';
import { copyFixture, endpoint, fixture, oneProblem, problemsMatching, write } from './helpers';

const SECRETS = { querySecret: 'q', 'sign-key': 's', jwt_signing_key: 'j' };

test('values: plain JSON values of any shape, keyed by name', () => {
  const app = loadApp(fixture('realm-v2'), { secrets: { ...SECRETS, 'my-api-key': 'k' } });
  assert.deepEqual(app.values.settings, { pageSize: 20, tags: ['a', 'b'] });
  assert.equal(app.values.greeting, 'hello from DevCluster');
});

test('from_secret: the value is the named secret; a missing secret leaves it undefined with an error', () => {
  const given = loadApp(fixture('realm-v2'), { secrets: { ...SECRETS, 'my-api-key': 'the-real-key' } });
  assert.equal(given.values.apiKey, 'the-real-key');
  assert.equal(given.secrets['my-api-key'], 'the-real-key');

  const missing = loadApp(fixture('realm-v2'), { secrets: SECRETS });
  assert.ok('apiKey' in missing.values);
  assert.equal(missing.values.apiKey, undefined);
  const p = oneProblem(missing, { level: 'error', file: 'values/apiKeyValue.json', field: 'value' });
  assert.match(p.message, /secret "my-api-key"/);
  assert.match(p.message, /ATRIUM_SECRET_MY_API_KEY/);
});

test('a value file with bad JSON is reported with its position; other values still load', () => {
  const app = loadApp(fixture('broken'));
  const p = oneProblem(app, { level: 'error', file: 'values/bad.json' });
  assert.match(p.message, /invalid JSON at line 5, column 1/);
  assert.equal(app.values.good, 'fine');
  assert.ok(!('bad' in app.values));
  oneProblem(app, { level: 'error', file: 'values/secretval.json', field: 'value', says: ['missingSecret'] });
});

test('environment: tag from the root config, values from environments/<tag>.json', () => {
  const app = loadApp(fixture('realm-v2'), { secrets: SECRETS });
  assert.deepEqual(app.environment, { tag: 'development', values: { clusterName: 'DevCluster', dbName: 'devdb', limits: { max: 5 } } });
});

test('environment "" (or absent) reads environments/no-environment.json', () => {
  const app = loadApp(fixture('broken'));
  assert.deepEqual(app.environment, { tag: '', values: { known: 'yes' } });
  const bare = loadApp(fixture('bare'));
  assert.deepEqual(bare.environment, { tag: '', values: {} });
});

test('root_config.json and realm_config.json disagree: root_config.json wins, with a warning', () => {
  const app = loadApp(fixture('cli-2023'));
  assert.deepEqual(app.environment, { tag: 'production', values: { region: 'eu' } });
  const p = oneProblem(app, { level: 'warning', file: 'realm_config.json', field: 'environment' });
  assert.match(p.message, /root_config\.json/);
});

test('LoadOptions.environment overrides the root config', () => {
  const app = loadApp(fixture('realm-v2'), { secrets: SECRETS, environment: 'production' });
  assert.equal(app.environment.tag, 'production');
  assert.equal(app.dataSources[0]?.config.clusterName, 'ProdCluster');
  assert.equal(app.values.greeting, 'hello from ProdCluster');
});

test('a selected environment without a file is a warning, and its values are empty', () => {
  const app = loadApp(fixture('realm-v2'), { secrets: SECRETS, environment: 'qa' });
  assert.deepEqual(app.environment, { tag: 'qa', values: {} });
  oneProblem(app, { level: 'warning', file: 'environments/qa.json' });
});

test('templates expand in endpoints, functions, values and data sources', () => {
  const app = loadApp(fixture('realm-v2'), { secrets: SECRETS });
  assert.equal(endpoint(app, 'GET', '/db').functionName, 'endpoint/devdb');
  assert.equal(app.functions['utils/add']?.runAsUserId, 'devdb');
  assert.equal(app.values.greeting, 'hello from DevCluster');
  assert.equal(app.dataSources[0]?.config.clusterName, 'DevCluster');
});

test('a template naming an unknown environment value is an error and is left as written', () => {
  const app = loadApp(fixture('broken'));
  const p = oneProblem(app, { level: 'error', file: 'http_endpoints/config.json', field: '[9].function_name', says: ['names a value', 'unknownName'] });
  assert.match(p.message, /environments\/no-environment\.json/);
  assert.equal(endpoint(app, 'GET', '/template').functionName, '%(%%environment.values.unknownName)');
});

test('a whole-field template takes the value as is; %(%%values.x) is not a load-time template', () => {
  const dir = copyFixture('realm-v2');
  write(dir, 'values/limitsCopy.json', { name: 'limitsCopy', value: '%(%%environment.values.limits)' });
  write(dir, 'values/embedded.json', { name: 'embedded', value: 'max=%(%%environment.values.limits)' });
  write(dir, 'values/notTemplate.json', { name: 'notTemplate', value: '%(%%values.greeting)' });
  const app = loadApp(dir, { secrets: { ...SECRETS, 'my-api-key': 'k' } });
  assert.deepEqual(app.values.limitsCopy, { max: 5 });
  assert.equal(app.values.embedded, 'max={"max":5}');
  assert.equal(app.values.notTemplate, '%(%%values.greeting)');
  assert.equal(problemsMatching(app, { level: 'error' }).length, 0);
});

test('values: duplicate names and non-object files are reported', () => {
  const dir = copyFixture('bare');
  write(dir, 'values/a.json', { name: 'same', value: 1 });
  write(dir, 'values/b.json', { name: 'same', value: 2 });
  write(dir, 'values/c.json', [1, 2]);
  const app = loadApp(dir);
  assert.equal(app.values.same, 1);
  oneProblem(app, { level: 'error', file: 'values/b.json', field: 'name', says: ['already defined in values/a.json'] });
  oneProblem(app, { level: 'error', file: 'values/c.json' });
});
