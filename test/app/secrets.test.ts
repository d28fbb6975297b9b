// collectSecrets (--secrets file + ATRIUM_SECRET_<NAME>) and item 6: secrets named by the app must be given.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { collectSecrets, loadApp } from '../../src/app';
import { endpoint, fixture, oneProblem, problemsMatching, tempDir, write } from './helpers';

function secretsFile(content: unknown): string {
  const dir = tempDir();
  write(dir, 'secrets.json', content);
  return path.join(dir, 'secrets.json');
}

test('the secrets file is a JSON object of name -> string', () => {
  const file = secretsFile({ webhookSecret: 'w', 'my-key': 'k' });
  assert.deepEqual(collectSecrets({ file, env: {} }), { webhookSecret: 'w', 'my-key': 'k' });
});

test('ATRIUM_SECRET_<NAME> env vars add secrets; other env vars are ignored', () => {
  const env = { ATRIUM_SECRET_webhookSecret: 'w', ATRIUM_SECRET_MY_KEY: 'k', ATRIUM_SECRET_: 'empty name', PATH: '/bin', ATRIUM_OTHER: 'x' };
  assert.deepEqual(collectSecrets({ env }), { webhookSecret: 'w', MY_KEY: 'k' });
});

test('env wins over the file, also through the normalized name', () => {
  const file = secretsFile({ 'my-key': 'from-file', other: 'o', exact: 'file-exact' });
  const secrets = collectSecrets({ file, env: { ATRIUM_SECRET_MY_KEY: 'from-env', ATRIUM_SECRET_exact: 'env-exact' } });
  assert.deepEqual(secrets, { other: 'o', MY_KEY: 'from-env', exact: 'env-exact' });
  // The app asks for "my-key": it must get the env value, not the file's.
  const dir = tempDir();
  write(dir, 'functions/f.js', 'exports = () => 1;\n');
  write(dir, 'values/k.json', { name: 'k', value: 'my-key', from_secret: true });
  assert.equal(loadApp(dir, { secrets }).values.k, 'from-env');
});

test('ATRIUM_SECRET_MY_KEY satisfies secrets named my-key, my_key and MY_KEY', () => {
  const secrets = collectSecrets({ env: { ATRIUM_SECRET_MY_KEY: 'v' } });
  const dir = tempDir();
  write(dir, 'functions/f.js', 'exports = () => 1;\n');
  write(dir, 'values/a.json', { name: 'a', value: 'my-key', from_secret: true });
  write(dir, 'values/b.json', { name: 'b', value: 'my_key', from_secret: true });
  write(dir, 'values/c.json', { name: 'c', value: 'MY_KEY', from_secret: true });
  const app = loadApp(dir, { secrets });
  assert.deepEqual(app.values, { a: 'v', b: 'v', c: 'v' });
  // app.secrets holds the secret under every name the app uses, so consumers look up exactly.
  assert.equal(app.secrets['my-key'], 'v');
  assert.equal(app.secrets.my_key, 'v');
  assert.equal(app.secrets.MY_KEY, 'v');
  assert.equal(problemsMatching(app, { level: 'error' }).length, 0);
});

test('bad secrets files fail with the file name and never the content', () => {
  const badJson = secretsFile('{"webhookSecret": "s3cr3t-value" "x": 1}');
  assert.throws(() => collectSecrets({ file: badJson, env: {} }), (err: Error) => {
    assert.ok(err.message.includes(badJson));
    assert.match(err.message, /invalid JSON at line 1, column 34/);
    assert.ok(!err.message.includes('s3cr3t'), 'the message must not quote the file');
    return true;
  });
  const notString = secretsFile({ webhookSecret: 12345 });
  assert.throws(() => collectSecrets({ file: notString, env: {} }), (err: Error) => err.message.includes(notString) && /"webhookSecret" must be a string/.test(err.message) && !err.message.includes('12345'));
  const array = secretsFile(['a']);
  assert.throws(() => collectSecrets({ file: array, env: {} }), (err: Error) => err.message.includes(array) && /JSON object/.test(err.message));
  const missing = path.join(tempDir(), 'nope.json');
  assert.throws(() => collectSecrets({ file: missing, env: {} }), (err: Error) => err.message.includes(missing) && /ENOENT/.test(err.message));
});

test('a secret named "__proto__" is an ordinary secret', () => {
  const file = secretsFile('{"__proto__": "p", "toString": "t"}');
  const secrets = collectSecrets({ file, env: {} });
  assert.equal(Object.getPrototypeOf(secrets), Object.prototype);
  assert.deepEqual(Object.keys(secrets), ['__proto__', 'toString']);
  assert.equal(Object.getOwnPropertyDescriptor(secrets, '__proto__')?.value, 'p');
});

test('item 6: an endpoint secret_name that was not given is an error naming the endpoint and the secret', () => {
  const app = loadApp(fixture('realm-v2'), { secrets: { 'my-api-key': 'k', jwt_signing_key: 'j', querySecret: 'q' } });
  const p = oneProblem(app, { level: 'error', file: 'http_endpoints/config.json', field: '[4].secret_name' });
  assert.match(p.message, /secret "sign-key"/);
  assert.match(p.message, /ATRIUM_SECRET_SIGN_KEY/);
  assert.equal(endpoint(app, '*', '/star').secretName, 'sign-key');
});

test('item 6: given secrets clear the problems; provider signing keys are checked too', () => {
  const all = loadApp(fixture('realm-v2'), { secrets: { 'my-api-key': 'k', jwt_signing_key: 'j', querySecret: 'q', 'sign-key': 's' } });
  assert.equal(problemsMatching(all, { level: 'error' }).length, 0);
  const noJwt = loadApp(fixture('realm-v2'), { secrets: { 'my-api-key': 'k', querySecret: 'q', 'sign-key': 's' } });
  oneProblem(noJwt, { level: 'error', file: 'auth/providers.json', field: 'custom-token.secret_config.signingKeys[0]', says: ['jwt_signing_key'] });
});

test('item 6: legacy webhook plain-text secrets need nothing', () => {
  const app = loadApp(fixture('stitch-legacy'));
  assert.equal(problemsMatching(app, { level: 'error', says: ['secret'] }).length, 0);
});

test('secret values never appear in problems', () => {
  const app = loadApp(fixture('realm-v2'), { secrets: { 'my-api-key': 'VALUE-ONE', querySecret: 'VALUE-TWO' } });
  const text = JSON.stringify(app.problems);
  assert.ok(!text.includes('VALUE-ONE') && !text.includes('VALUE-TWO'));
});
