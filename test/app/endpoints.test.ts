// Item 2: http(s)_endpoints/config.json, defaults, aliases, validation, duplicates, look-alikes, data_api_config.json.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadApp } from '../../src/app';
import { copyFixture, endpoint, fixture, oneProblem, problemsMatching, write } from './helpers';

const SECRETS = { querySecret: 'q', 'sign-key': 's', 'my-api-key': 'k', jwt_signing_key: 'j' };

test('a full endpoint entry is read field by field', () => {
  const app = loadApp(fixture('realm-v2'), { secrets: SECRETS });
  assert.deepEqual(endpoint(app, 'GET', '/hello'), {
    route: '/hello',
    httpMethod: 'GET',
    functionName: 'endpoint/hello',
    validationMethod: 'NO_VALIDATION',
    respondResult: true,
    fetchCustomUserData: false,
    createUserOnAuth: false,
    disabled: false,
    returnType: 'JSON',
    definedIn: 'http_endpoints/config.json[0]',
  });
  const mixed = endpoint(app, 'PUT', '/Mixed/Case-Route_1'); // method "put" in the file; route case kept
  assert.equal(mixed.respondResult, false);
  assert.equal(mixed.fetchCustomUserData, true);
  assert.equal(mixed.createUserOnAuth, true);
  assert.equal(mixed.disabled, true);
  assert.equal(endpoint(app, 'GET', '/hello/latest').returnType, 'EJSON');
});

test('absent fields take the spec defaults: NO_VALIDATION, respond_result false, JSON', () => {
  const app = loadApp(fixture('realm-v2'), { secrets: SECRETS });
  const e = endpoint(app, 'POST', '/minimal');
  assert.equal(e.validationMethod, 'NO_VALIDATION');
  assert.equal(e.respondResult, false);
  assert.equal(e.returnType, 'JSON');
  assert.equal(e.disabled, false);
  assert.equal(e.fetchCustomUserData, false);
  assert.equal(e.createUserOnAuth, false);
  assert.equal(e.secretName, undefined);
});

test('aliases: verification_method is validation_method, http_method ANY is *', () => {
  const app = loadApp(fixture('realm-v2'), { secrets: SECRETS });
  const e = endpoint(app, '*', '/any');
  assert.equal(e.validationMethod, 'SECRET_AS_QUERY_PARAM');
  assert.equal(e.secretName, 'querySecret');
  assert.equal(endpoint(app, '*', '/star').validationMethod, 'VERIFY_PAYLOAD');
});

test('https_endpoints/ is read for App Services CLI exports; specific and * methods on one route coexist', () => {
  const app = loadApp(fixture('cli-2023'));
  assert.equal(endpoint(app, 'GET', '/items').functionName, 'items/list');
  assert.equal(endpoint(app, '*', '/items').functionName, 'items/any');
  assert.equal(endpoint(app, 'GET', '/items').definedIn, 'https_endpoints/config.json[0]');
});

test('both endpoint dirs: http_endpoints/ without generation markers, with a warning naming both', () => {
  const app = loadApp(fixture('both-endpoint-dirs'));
  assert.deepEqual(app.endpoints.map((e) => e.route), ['/from-http']);
  const p = oneProblem(app, { level: 'warning', says: ['https_endpoints/', 'http_endpoints/'] });
  assert.match(p.message, /using http_endpoints\//);
});

test('both endpoint dirs: https_endpoints/ when root_config.json or .mdb/meta.json mark the CLI generation', () => {
  for (const marker of ['root_config.json', '.mdb/meta.json']) {
    const dir = copyFixture('both-endpoint-dirs');
    write(dir, marker, { name: 'both', client_app_id: 'both-zzzzz' });
    const app = loadApp(dir);
    assert.deepEqual(app.endpoints.map((e) => e.route), ['/from-https'], marker);
    const p = oneProblem(app, { level: 'warning', says: ['https_endpoints/', 'http_endpoints/'] });
    assert.match(p.message, /using https_endpoints\//);
  }
});

test('invalid entries are reported and skipped; the valid ones load', () => {
  const app = loadApp(fixture('broken'));
  const file = 'http_endpoints/config.json';
  oneProblem(app, { level: 'error', file, field: '[4].route', says: ['must start with "/"'] });
  oneProblem(app, { level: 'error', file, field: '[5].http_method', says: ['FETCH'] });
  oneProblem(app, { level: 'error', file, field: '[8].validation_method', says: ['MAGIC'] });
  oneProblem(app, { level: 'error', file, field: '[10]', says: ['must be an object'] });
  const routes = app.endpoints.map((e) => e.route);
  for (const skipped of ['no-slash', '/badmethod', '/badvalidation']) assert.ok(!routes.includes(skipped), skipped);
  assert.ok(routes.includes('/ok'));
});

test('TiDB Data Service look-alike entries are reported as such and skipped', () => {
  const app = loadApp(fixture('broken'));
  const p = oneProblem(app, { level: 'error', file: 'http_endpoints/config.json', field: '[3]' });
  assert.match(p.message, /not an App Services endpoint/);
  assert.match(p.message, /TiDB/);
  assert.match(p.message, /sql_file/);
  assert.ok(!app.endpoints.some((e) => e.route === '/users'));
});

test('duplicate route + method: error, first kept', () => {
  const app = loadApp(fixture('broken'));
  oneProblem(app, { level: 'error', file: 'http_endpoints/config.json', field: '[2]', says: ['duplicate endpoint GET /ok'] });
  const ok = app.endpoints.filter((e) => e.route === '/ok');
  assert.equal(ok.length, 1);
  assert.equal(ok[0]?.functionName, 'ok');
});

test('secret methods without secret_name are errors; the endpoint stays (the HTTP layer refuses its requests)', () => {
  const app = loadApp(fixture('broken'));
  oneProblem(app, { level: 'error', file: 'http_endpoints/config.json', field: '[6].secret_name', says: ['SECRET_AS_QUERY_PARAM needs a secret_name'] });
  const e = endpoint(app, 'POST', '/nosecretname');
  assert.equal(e.validationMethod, 'SECRET_AS_QUERY_PARAM');
  assert.equal(e.secretName, undefined);
});

test('an endpoint whose function is missing stays and gets an error naming file, index and function', () => {
  const app = loadApp(fixture('broken'));
  const e = endpoint(app, 'GET', '/dangling');
  assert.equal(e.functionName, 'doesNotExist');
  const p = oneProblem(app, { level: 'error', file: 'http_endpoints/config.json', field: '[1].function_name' });
  assert.match(p.message, /function "doesNotExist" not found/);
});

test('booleans written as strings are read with a warning; other wrong types fall back to the default', () => {
  const app = loadApp(fixture('broken'));
  const e = endpoint(app, 'GET', '/strbool');
  assert.equal(e.respondResult, true);
  assert.equal(e.disabled, false);
  oneProblem(app, { level: 'warning', field: '[11].respond_result' });
  oneProblem(app, { level: 'error', field: '[11].disabled', says: ['must be a boolean'] });
});

test('a config.json that is not an array loads no endpoints and says why', () => {
  const dir = copyFixture('bare');
  write(dir, 'http_endpoints/config.json', { route: '/hello' });
  const app = loadApp(dir);
  assert.equal(app.endpoints.length, 0);
  oneProblem(app, { level: 'error', file: 'http_endpoints/config.json', says: ['must be a JSON array'] });
});

test('data_api_config.json is loaded into dataApi', () => {
  const app = loadApp(fixture('realm-v2'), { secrets: SECRETS });
  assert.deepEqual(app.dataApi, {
    disabled: false,
    versions: ['v1'],
    returnType: 'EJSON',
    createUserOnAuth: false,
    runAsSystem: false,
    runAsUserId: '',
    runAsUserIdScriptSource: '',
    canEvaluate: {},
    validationMethod: 'NO_VALIDATION',
    fetchCustomUserData: false,
    logFunctionArguments: true,
    definedIn: 'http_endpoints/data_api_config.json',
  });
  assert.equal(loadApp(fixture('bare')).dataApi, null);
});

test('data_api_config.json with an unknown validation method disables the Data API', () => {
  const dir = copyFixture('bare');
  write(dir, 'http_endpoints/data_api_config.json', { disabled: false, validation_method: 'WHATEVER' });
  const app = loadApp(dir);
  assert.equal(app.dataApi?.disabled, true);
  oneProblem(app, { level: 'error', file: 'http_endpoints/data_api_config.json', field: 'validation_method' });
});

test('data_api_config.json secret_name must be given', () => {
  const dir = copyFixture('bare');
  write(dir, 'http_endpoints/data_api_config.json', { disabled: false, validation_method: 'SECRET_AS_QUERY_PARAM', secret_name: 'dataApiSecret' });
  const without = loadApp(dir);
  oneProblem(without, { level: 'error', file: 'http_endpoints/data_api_config.json', field: 'secret_name', says: ['dataApiSecret'] });
  const withSecret = loadApp(dir, { secrets: { dataApiSecret: 'x' } });
  assert.equal(problemsMatching(withSecret, { level: 'error' }).length, 0);
  assert.equal(withSecret.dataApi?.secretName, 'dataApiSecret');
});
