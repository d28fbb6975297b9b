// Item 9 (unsupported sections) and the "broken" fixture: every problem is reported, the valid parts still load.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatProblem, loadApp } from '../../src/app';
import { copyFixture, endpoint, fixture, oneProblem, problemsMatching, write } from './helpers';

const UNSUPPORTED = ['triggers', 'sync', 'graphql', 'hosting', 'log_forwarders'];

test('each unsupported section in use gets exactly one warning line', () => {
  const app = loadApp(fixture('broken'));
  for (const name of UNSUPPORTED) {
    const p = oneProblem(app, { level: 'warning', file: `${name}/` });
    assert.equal(p.message, `${name}/ is not supported by Atrium and is ignored`);
  }
});

test('a section is reported when its folder is present, even with only the default files realm-cli writes', () => {
  const app = loadApp(fixture('realm-v2'), { secrets: { querySecret: 'q', 'sign-key': 's', 'my-api-key': 'k', jwt_signing_key: 'j' } });
  assert.deepEqual(problemsMatching(app, { level: 'warning' }).map((p) => p.file).sort(), ['graphql/', 'sync/']);
  const bare = copyFixture('bare');
  assert.equal(problemsMatching(loadApp(bare), { level: 'warning' }).length, 0);
  write(bare, 'triggers/onInsert.json', { name: 'onInsert' });
  oneProblem(loadApp(bare), { level: 'warning', file: 'triggers/', says: ['not supported by Atrium'] });
});

test('legacy third-party services get one warning each', () => {
  const app = loadApp(fixture('stitch-legacy'));
  const p = oneProblem(app, { level: 'warning', file: 'services/sms/' });
  assert.match(p.message, /"twilio" service is not supported/);
  assert.equal(problemsMatching(app, { file: 'services/myhttp/' }).length, 0);
});

test('broken: the valid parts are loaded', () => {
  const app = loadApp(fixture('broken'));
  assert.equal(app.appId, 'broken-abcde');
  const ok = endpoint(app, 'GET', '/ok');
  assert.equal(ok.functionName, 'ok');
  assert.ok(app.functions.ok);
  assert.equal(app.values.good, 'fine');
  assert.equal(app.dataSources[0]?.name, 'mongodb-atlas');
  assert.deepEqual(app.environment.values, { known: 'yes' });
});

test('broken: every problem names a file relative to the app dir, and formats as one line', () => {
  const app = loadApp(fixture('broken'));
  assert.ok(app.problems.length >= 20);
  for (const p of app.problems) {
    assert.ok(p.file !== '' && !p.file.startsWith('/') && !p.file.includes('\\'), p.file);
    const line = formatProblem(p);
    assert.ok(!line.includes('\n'), line);
    assert.ok(line.startsWith(`${p.level}: ${p.file}`), line);
  }
});

test('formatProblem', () => {
  assert.equal(
    formatProblem({ level: 'error', file: 'https_endpoints/config.json', field: '[2].function_name', message: 'function "x" not found' }),
    'error: https_endpoints/config.json[2].function_name: function "x" not found',
  );
  assert.equal(formatProblem({ level: 'warning', file: 'values/a.json', field: 'value', message: 'm' }), 'warning: values/a.json.value: m');
  assert.equal(formatProblem({ level: 'warning', file: 'triggers/', message: 'triggers/ is not supported by Atrium and is ignored' }), 'warning: triggers/: triggers/ is not supported by Atrium and is ignored');
});

test('an unreadable file is a problem, not a crash', { skip: process.getuid?.() === 0 ? 'root can read anything' : false }, async () => {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const dir = copyFixture('bare');
  const file = path.join(dir, 'functions', 'hello.js');
  fs.chmodSync(file, 0o000);
  const app = loadApp(dir);
  oneProblem(app, { level: 'error', file: 'functions/hello.js', says: ['cannot read file'] });
});
