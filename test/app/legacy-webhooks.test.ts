// Item 3: legacy incoming webhooks (20210101 http_endpoints/<svc>/incoming_webhooks and Stitch services/<svc>/incoming_webhooks).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadApp } from '../../src/app';
import { copyFixture, endpoint, fixture, oneProblem, problemsMatching, write } from './helpers';

const SECRETS = { querySecret: 'q', 'sign-key': 's', 'my-api-key': 'k', jwt_signing_key: 'j' };

test('Stitch webhooks become endpoints /<svc>/<name> bound to <svc>_<name>, with a function from source.js', () => {
  const app = loadApp(fixture('stitch-legacy'));
  const getter = endpoint(app, 'GET', '/myhttp/getter');
  assert.equal(getter.functionName, 'myhttp_getter');
  assert.equal(getter.validationMethod, 'NO_VALIDATION');
  assert.equal(getter.respondResult, true);
  assert.equal(getter.returnType, 'JSON');
  assert.equal(getter.definedIn, 'services/myhttp/incoming_webhooks/getter/config.json');
  assert.deepEqual(getter.legacyWebhook, { service: 'myhttp', name: 'getter' });
  const fn = app.functions.myhttp_getter;
  assert.ok(fn);
  assert.equal(fn.file, 'services/myhttp/incoming_webhooks/getter/source.js');
  assert.equal(fn.source, 'exports = function(payload) {\n  return { got: payload.query.q };\n};\n');
  assert.equal(fn.private, true);
});

test('webhook options: method ANY/absent is *, HEAD is served as GET with a warning, validation and plain secret kept', () => {
  const app = loadApp(fixture('stitch-legacy'));
  assert.equal(endpoint(app, '*', '/myhttp/anyhook').functionName, 'myhttp_anyhook');
  assert.equal(endpoint(app, '*', '/myhttp/authed').functionName, 'myhttp_authed');
  assert.equal(endpoint(app, 'GET', '/myhttp/headhook').functionName, 'myhttp_headhook');
  oneProblem(app, { level: 'warning', file: 'services/myhttp/incoming_webhooks/headhook/config.json', field: 'options.httpMethod', says: ['HEAD'] });
  const poster = endpoint(app, 'POST', '/myhttp/poster');
  assert.equal(poster.validationMethod, 'VERIFY_PAYLOAD');
  assert.equal(poster.respondResult, false);
  assert.deepEqual(poster.legacyWebhook, { service: 'myhttp', name: 'poster', secretValue: 'stitch-demo-secret' });
  assert.equal(poster.secretName, undefined);
  // A plain-text webhook secret needs no --secrets entry.
  assert.equal(problemsMatching(app, { level: 'error' }).length, 0);
});

test('webhook run-as: no setting runs as system; run_as_authed_user means application auth', () => {
  const app = loadApp(fixture('stitch-legacy'));
  assert.equal(app.functions.myhttp_getter?.runAsSystem, true);
  const authed = app.functions.myhttp_authed;
  assert.ok(authed);
  assert.equal(authed.runAsSystem, false);
  assert.equal(authed.runAsUserId, '');
  assert.equal(authed.runAsUserIdScriptSource, '');
  assert.equal(authed.disableArgLogs, true);
  assert.deepEqual(authed.canEvaluate, { '%%true': true });
});

test('webhook run-as: a fixed user id or a script is kept', () => {
  const dir = copyFixture('stitch-legacy');
  write(dir, 'services/myhttp/incoming_webhooks/getter/config.json', {
    name: 'getter', run_as_user_id: '64f0e1d2c3b4a59687786950', options: { httpMethod: 'GET' },
  });
  write(dir, 'services/myhttp/incoming_webhooks/poster/config.json', {
    name: 'poster', run_as_user_id_script_source: 'exports = () => "abc";', options: { httpMethod: 'POST' },
  });
  const app = loadApp(dir);
  assert.equal(app.functions.myhttp_getter?.runAsSystem, false);
  assert.equal(app.functions.myhttp_getter?.runAsUserId, '64f0e1d2c3b4a59687786950');
  assert.equal(app.functions.myhttp_poster?.runAsSystem, false);
  assert.equal(app.functions.myhttp_poster?.runAsUserIdScriptSource, 'exports = () => "abc";');
});

test('a secret method with an empty secret is an error; a censored placeholder is a warning', () => {
  const dir = copyFixture('stitch-legacy');
  write(dir, 'services/myhttp/incoming_webhooks/poster/config.json', { name: 'poster', options: { httpMethod: 'POST', validationMethod: 'VERIFY_PAYLOAD' } });
  const app = loadApp(dir);
  oneProblem(app, { level: 'error', file: 'services/myhttp/incoming_webhooks/poster/config.json', field: 'options.secret' });
  oneProblem(app, { level: 'warning', file: 'services/myhttp/incoming_webhooks/authed/config.json', field: 'options.secret', says: ['placeholder'] });
});

test('converted apps: the explicit endpoint wins over the webhook with the same route and answers the old URL', () => {
  const app = loadApp(fixture('realm-v2'), { secrets: SECRETS });
  const hook1 = app.endpoints.filter((e) => e.route === '/httpsvc/hook1');
  assert.equal(hook1.length, 1);
  const e = hook1[0];
  assert.ok(e);
  assert.equal(e.definedIn, 'http_endpoints/config.json[5]');
  assert.equal(e.validationMethod, 'NO_VALIDATION'); // the explicit endpoint's, not the webhook's
  assert.equal(e.respondResult, true);
  // No secret_name on the explicit endpoint: the webhook's plain secret is kept for the legacy URL.
  assert.deepEqual(e.legacyWebhook, { service: 'httpsvc', name: 'hook1', secretValue: 'plain-hook-secret' });
  // The manifest's function (the converted one) is used, not the webhook's source.js.
  assert.equal(app.functions.httpsvc_hook1?.file, 'functions/httpsvc_hook1.js');
  assert.equal(app.functions.httpsvc_hook1?.private, false);
});

test('converted apps: a webhook with no explicit endpoint is added, with its synthesized function', () => {
  const app = loadApp(fixture('realm-v2'), { secrets: SECRETS });
  const e = endpoint(app, 'GET', '/httpsvc/hook2');
  assert.equal(e.functionName, 'httpsvc_hook2');
  assert.equal(e.respondResult, true);
  assert.equal(app.functions.httpsvc_hook2?.file, 'http_endpoints/httpsvc/incoming_webhooks/hook2/source.js');
  assert.equal(app.functions.httpsvc_hook2?.runAsSystem, true);
});

test('an explicit endpoint with its own secret_name does not take the webhook plain secret', () => {
  const dir = copyFixture('realm-v2');
  write(dir, 'http_endpoints/config.json', [
    { route: '/httpsvc/hook1', http_method: 'POST', function_name: 'httpsvc_hook1', validation_method: 'SECRET_AS_QUERY_PARAM', secret_name: 'httpsvc_hook1' },
  ]);
  const app = loadApp(dir, { secrets: { ...SECRETS, httpsvc_hook1: 'v' } });
  assert.deepEqual(endpoint(app, 'POST', '/httpsvc/hook1').legacyWebhook, { service: 'httpsvc', name: 'hook1' });
});

test('a webhook without source.js keeps its endpoint and is reported once', () => {
  const dir = copyFixture('stitch-legacy');
  write(dir, 'services/myhttp/incoming_webhooks/nosource/config.json', { name: 'nosource', options: { httpMethod: 'GET' } });
  const app = loadApp(dir);
  assert.equal(endpoint(app, 'GET', '/myhttp/nosource').functionName, 'myhttp_nosource');
  assert.equal(app.functions.myhttp_nosource, undefined);
  oneProblem(app, { level: 'error', says: ['no source.js'] });
});
