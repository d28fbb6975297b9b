// `atrium rules check <appDir>` (runRulesCommand, run in a child process as the CLI would): problems with file
// and field, exit code 1 on errors and 0 for a clean app.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { FIXTURES, REPO_ROOT } from '../helpers/server';

function rulesCommand(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const entry = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'rules.js');
  const script = `require(${JSON.stringify(entry)}).runRulesCommand(${JSON.stringify(args)}).then((c) => { process.exitCode = c; }, (e) => { console.error(e.message); process.exitCode = 2; });`;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('atrium rules check', () => {
  test('a broken app: every problem with its file and field, exit code 1', () => {
    const r = rulesCommand(['check', path.join(FIXTURES, 'rules-broken')]);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.trim().split('\n');
    const has = (re: RegExp): void => assert.ok(lines.some((l) => re.test(l)), `${re} in\n${r.stdout}`);
    has(/^error: data_sources\/mongodb-atlas\/shop\/orders\/rules\.json \(roles\[0\]\.write\): must be a rule expression/);
    has(/^error: data_sources\/mongodb-atlas\/shop\/orders\/rules\.json \(roles\[0\]\.apply_when\.owner_id\): unknown expansion %%usr\.id/);
    has(/^error: data_sources\/mongodb-atlas\/shop\/orders\/rules\.json \(filters\[0\]\.apply_when\): a filter's apply_when cannot refer to the document/);
    has(/^error: data_sources\/mongodb-atlas\/shop\/orders\/schema\.json \(properties\.qty\.bsonType\): unknown bsonType "integer"/);
    has(/^error: data_sources\/mongodb-atlas\/default_rule\.json \(roles\[0\]\.apply_when\.%%user\.id\): unknown operator \$regex/);
    has(/^error: data_sources\/mongodb-atlas\/shop\/users\/rules\.json.*JSON/i);
    assert.match(lines[lines.length - 1], /1 data source\(s\), .* [1-9]\d* error\(s\)/);
  });

  test('--json gives the same problems as data', () => {
    const r = rulesCommand(['check', path.join(FIXTURES, 'rules-broken'), '--json']);
    assert.equal(r.code, 1);
    const report = JSON.parse(r.stdout) as { problems: Array<{ level: string; file: string; field?: string }>; counted: { schemas: number } };
    assert.ok(report.problems.some((p) => p.file.endsWith('schema.json') && p.field === 'properties.qty.bsonType'));
    assert.equal(report.counted.schemas, 1);
  });

  test('a clean app exits 0', () => {
    const r = rulesCommand(['check', path.join(FIXTURES, 'rules-app')]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /1 data source\(s\), 6 rule file\(s\), 10 role\(s\), 1 filter\(s\), 2 schema\(s\): 0 error\(s\)/);
  });

  test('usage errors', () => {
    assert.equal(rulesCommand(['check']).code, 2);
    assert.equal(rulesCommand(['frobnicate', 'x']).code, 2);
    assert.equal(rulesCommand(['check', path.join(FIXTURES, 'does-not-exist')]).code, 2);
  });
});
