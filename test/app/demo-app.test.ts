// examples/demo-app: loads cleanly with its one secret, and defines the endpoints its README documents.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadApp } from '../../src/app';
import { DEMO_APP, endpoint, oneProblem } from './helpers';

const secrets = JSON.parse(fs.readFileSync(path.join(DEMO_APP, 'secrets.example.json'), 'utf8')) as Record<string, string>;

test('demo-app loads with no problems when webhookSecret is given', () => {
  const app = loadApp(DEMO_APP, { secrets });
  assert.deepEqual(app.problems, []);
  assert.equal(app.layout, 'realm-cli-v2');
  assert.equal(app.appId, 'demo-app-abcde');
  assert.equal(app.environment.tag, 'development');
  assert.equal(app.values.appName, 'Atrium demo');
  assert.deepEqual(Object.keys(app.authProviders).sort(), ['anon-user', 'api-key', 'local-userpass']);
  assert.deepEqual(app.dataSources.map((d) => d.name), ['mongodb-atlas']);
});

test('demo-app without the secret reports both endpoints that need it', () => {
  const app = loadApp(DEMO_APP, { secrets: {} });
  oneProblem(app, { level: 'error', field: '[7].secret_name', says: ['webhookSecret'] });
  oneProblem(app, { level: 'error', field: '[8].secret_name', says: ['webhookSecret'] });
  assert.equal(app.problems.length, 2);
});

test('demo-app endpoints and their functions', () => {
  const app = loadApp(DEMO_APP, { secrets });
  const expected: Array<[string, string, string, Partial<{ respondResult: boolean; returnType: string; validationMethod: string; secretName: string }>]> = [
    ['GET', '/hello', 'hello', { respondResult: true }],
    ['POST', '/echo', 'echo', {}],
    ['*', '/whoami', 'whoami', {}],
    ['GET', '/config', 'config', {}],
    ['POST', '/sum', 'sum', {}],
    ['GET', '/redirect', 'redirect', { respondResult: false }],
    ['GET', '/ejson', 'ejson', { returnType: 'EJSON' }],
    ['POST', '/webhook', 'webhook', { validationMethod: 'VERIFY_PAYLOAD', secretName: 'webhookSecret' }],
    ['GET', '/secret', 'secret', { validationMethod: 'SECRET_AS_QUERY_PARAM', secretName: 'webhookSecret' }],
    ['POST', '/notes', 'notes/create', {}],
    ['GET', '/notes', 'notes/list', {}],
    ['GET', '/me', 'me', {}],
  ];
  assert.equal(app.endpoints.length, expected.length);
  for (const [method, route, fn, fields] of expected) {
    const e = endpoint(app, method, route);
    assert.equal(e.functionName, fn);
    for (const [k, v] of Object.entries(fields)) assert.equal((e as unknown as Record<string, unknown>)[k], v, `${method} ${route} ${k}`);
    const def = app.functions[fn];
    assert.ok(def, fn);
    assert.equal(def.runAsSystem, fn !== 'me', `${fn} run-as`);
  }
  const add = app.functions['utils/add'];
  assert.equal(add?.private, true);
  assert.equal(add?.file, 'functions/utils/add.js');
  assert.equal(app.functions.me?.runAsUserId, '');
  assert.equal(app.functions.me?.runAsUserIdScriptSource, '');
  assert.match(app.functions.sum?.source ?? '', /context\.functions\.execute\("utils\/add"/);
  assert.match(app.functions['notes/list']?.source ?? '', /\.find\(.*\)\.sort\(.*\)\.toArray\(\)/);
});
