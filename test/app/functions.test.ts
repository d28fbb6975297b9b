// Item 4: functions/config.json + sources (recursive, node_modules skipped, legacy per-folder layout).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadApp } from '../../src/app';
import { copyFixture, fixture, oneProblem, problemsMatching, write } from './helpers';

const SECRETS = { querySecret: 'q', 'sign-key': 's', 'my-api-key': 'k', jwt_signing_key: 'j' };

test('manifest entries are matched to their sources; a file and a folder of the same name coexist', () => {
  const app = loadApp(fixture('realm-v2'), { secrets: SECRETS });
  const hello = app.functions['endpoint/hello'];
  const latest = app.functions['endpoint/hello/latest'];
  assert.equal(hello?.file, 'functions/endpoint/hello.js');
  assert.equal(latest?.file, 'functions/endpoint/hello/latest.js');
  assert.equal(hello?.runAsSystem, true);
  assert.equal(hello?.name, 'endpoint/hello');
});

test('source text is kept byte for byte', () => {
  const app = loadApp(fixture('realm-v2'), { secrets: SECRETS });
  for (const fn of Object.values(app.functions)) {
    assert.equal(fn.source, fs.readFileSync(path.join(app.dir, fn.file), 'utf8'), fn.name);
  }
});

test('manifest settings: private, run-as user id, can_evaluate', () => {
  const app = loadApp(fixture('realm-v2'), { secrets: SECRETS });
  const add = app.functions['utils/add'];
  assert.ok(add);
  assert.equal(add.private, true);
  assert.equal(add.runAsSystem, false);
  assert.equal(add.runAsUserId, 'devdb'); // template-expanded from the development environment
  assert.deepEqual(add.canEvaluate, { '%%request.remoteIPAddress': { $in: ['127.0.0.1'] } });
  assert.equal(add.disableArgLogs, false);
  assert.equal(app.functions['endpoint/devdb']?.runAsUserIdScriptSource, 'exports = () => ({ runAsSystem: true });');
});

test('a source file without a manifest entry gets defaults: public, application auth', () => {
  const app = loadApp(fixture('realm-v2'), { secrets: SECRETS });
  assert.deepEqual(app.functions.unlisted, {
    name: 'unlisted',
    file: 'functions/unlisted.js',
    source: fs.readFileSync(path.join(fixture('realm-v2'), 'functions', 'unlisted.js'), 'utf8'),
    private: false,
    runAsSystem: false,
    runAsUserId: '',
    runAsUserIdScriptSource: '',
    canEvaluate: {},
    disableArgLogs: false,
  });
  const bare = loadApp(fixture('bare')); // no functions/config.json at all
  assert.equal(bare.functions.hello?.runAsSystem, false);
});

test('a manifest entry without a source file is an error and is not loaded', () => {
  const app = loadApp(fixture('broken'));
  const p = oneProblem(app, { level: 'error', file: 'functions/config.json', field: '[1].name' });
  assert.match(p.message, /"ghost"/);
  assert.match(p.message, /functions\/ghost\.js/);
  assert.equal(app.functions.ghost, undefined);
  assert.ok(app.functions.ok);
});

test('node_modules under functions/ is skipped; functions/package.json gives packageJsonPath', () => {
  const dir = copyFixture('realm-v2');
  write(dir, 'functions/node_modules/lodash/index.js', 'module.exports = {};\n');
  write(dir, 'functions/node_modules/lodash/fp.js', 'module.exports = {};\n');
  const app = loadApp(dir, { secrets: SECRETS });
  assert.ok(!Object.keys(app.functions).some((n) => n.includes('node_modules')));
  assert.equal(app.packageJsonPath, path.join(dir, 'functions', 'package.json'));
  assert.ok(path.isAbsolute(app.packageJsonPath));
  assert.equal(loadApp(fixture('bare')).packageJsonPath, null);
});

test('legacy functions/<name>/{config.json,source.js}', () => {
  const app = loadApp(fixture('stitch-legacy'));
  const hello = app.functions.sayHello;
  assert.ok(hello);
  assert.equal(hello.file, 'functions/sayHello/source.js');
  assert.equal(hello.private, false);
  assert.equal(hello.runAsSystem, false);
  assert.equal(app.functions.secretHelper?.private, true);
  assert.equal(app.functions.secretHelper?.runAsSystem, true);
  // A legacy folder without config.json is still a function named after the folder in legacy layouts.
  assert.equal(app.functions.noConfig?.file, 'functions/noConfig/source.js');
  assert.equal(app.functions['noConfig/source'], undefined);
});

test('in a v2 layout a folder with only source.js is a function named <folder>/source', () => {
  const dir = copyFixture('bare');
  write(dir, 'functions/tool/source.js', 'exports = () => 1;\n');
  const app = loadApp(dir);
  assert.equal(app.functions['tool/source']?.file, 'functions/tool/source.js');
});

test('duplicate manifest names and a non-array manifest are reported', () => {
  const dir = copyFixture('bare');
  write(dir, 'functions/config.json', [{ name: 'hello', run_as_system: true }, { name: 'hello', run_as_system: false }, { private: true }]);
  const app = loadApp(dir);
  assert.equal(app.functions.hello?.runAsSystem, true);
  oneProblem(app, { level: 'error', file: 'functions/config.json', field: '[1].name', says: ['more than once'] });
  oneProblem(app, { level: 'error', file: 'functions/config.json', field: '[2].name', says: ['missing'] });

  write(dir, 'functions/config.json', { hello: {} });
  const app2 = loadApp(dir);
  oneProblem(app2, { level: 'error', file: 'functions/config.json', says: ['must be a JSON array'] });
  assert.ok(app2.functions.hello, 'sources still load with defaults');
});

test('a manifest name cannot reach outside functions/', () => {
  const dir = copyFixture('bare');
  write(dir, 'outside.js', 'exports = () => "outside";\n');
  write(dir, 'functions/config.json', [{ name: '../outside', run_as_system: true }]);
  const app = loadApp(dir);
  assert.equal(app.functions['../outside'], undefined);
  assert.equal(problemsMatching(app, { level: 'error', file: 'functions/config.json', field: '[0].name' }).length, 1);
});

test('can_evaluate false never allows; a non-expression is an error and never allows', () => {
  const dir = copyFixture('bare');
  write(dir, 'functions/config.json', [{ name: 'hello', can_evaluate: false }]);
  assert.deepEqual(loadApp(dir).functions.hello?.canEvaluate, { '%%true': false });
  write(dir, 'functions/config.json', [{ name: 'hello', can_evaluate: 'yes' }]);
  const app = loadApp(dir);
  assert.deepEqual(app.functions.hello?.canEvaluate, { '%%true': false });
  oneProblem(app, { level: 'error', field: '[0].can_evaluate' });
});
