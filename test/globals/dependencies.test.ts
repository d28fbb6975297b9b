// Real npm installs from the npm registry (reachable from this machine), into temporary data dirs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AppDefinition } from '../../src/app/types';
import { describeNpmFailure, ensureDependencies } from '../../src/runtime/dependencies';
import { createFunctionRequire } from '../../src/runtime/modules';

let tmp: string;

before(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-deps-')));
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function appWith(name: string, packageJson: unknown | null): AppDefinition {
  const dir = path.join(tmp, name);
  fs.mkdirSync(path.join(dir, 'functions'), { recursive: true });
  let packageJsonPath: string | null = null;
  if (packageJson !== null) {
    packageJsonPath = path.join(dir, 'functions', 'package.json');
    fs.writeFileSync(packageJsonPath, typeof packageJson === 'string' ? packageJson : JSON.stringify(packageJson));
  }
  return { dir, appId: `${name}-abcde`, packageJsonPath } as unknown as AppDefinition;
}

test('no package.json -> null, nothing installed', async () => {
  const lines: string[] = [];
  assert.equal(await ensureDependencies(appWith('none', null), path.join(tmp, 'data0'), (l) => lines.push(l)), null);
  assert.equal(fs.existsSync(path.join(tmp, 'data0')), false);
});

test('installs a pinned package, require() finds it, a second start skips npm', { timeout: 180_000 }, async () => {
  const app = appWith('real', {
    name: 'functions',
    dependencies: { 'is-number': '7.0.0' },
    devDependencies: { 'left-pad': '1.3.0' },
    scripts: { postinstall: 'touch SHOULD_NOT_EXIST' },
  });
  const dataDir = path.join(tmp, 'data1');
  const lines: string[] = [];
  const depsDir = await ensureDependencies(app, dataDir, (l) => lines.push(l));
  assert.equal(depsDir, path.join(dataDir, 'deps', 'real-abcde'));
  assert.ok(lines.some((l) => l.includes('installing npm dependencies') && l.includes('is-number@7.0.0')), lines.join('\n'));
  const installed = JSON.parse(fs.readFileSync(path.join(depsDir!, 'node_modules', 'is-number', 'package.json'), 'utf8'));
  assert.equal(installed.version, '7.0.0');
  assert.equal(fs.existsSync(path.join(depsDir!, 'node_modules', 'left-pad')), false, 'devDependencies are not installed');
  assert.equal(fs.existsSync(path.join(depsDir!, 'SHOULD_NOT_EXIST')), false, "the app's scripts never run");

  const req = createFunctionRequire({ appDir: app.dir, dependenciesDir: depsDir });
  const isNumber = req('is-number') as (v: unknown) => boolean;
  assert.equal(isNumber(5), true);
  assert.equal(isNumber('abc'), false);

  // Unchanged package.json: no npm run at all (a marker file inside node_modules survives).
  fs.writeFileSync(path.join(depsDir!, 'node_modules', '.marker'), 'x');
  const lines2: string[] = [];
  assert.equal(await ensureDependencies(app, dataDir, (l) => lines2.push(l)), depsDir);
  assert.ok(lines2.some((l) => l.includes('unchanged')), lines2.join('\n'));
  assert.ok(!lines2.some((l) => l.includes('installing')));
  assert.equal(fs.existsSync(path.join(depsDir!, 'node_modules', '.marker')), true);

  // node_modules deleted: reinstalled even though the stamp matches.
  fs.rmSync(path.join(depsDir!, 'node_modules'), { recursive: true, force: true });
  const lines3: string[] = [];
  await ensureDependencies(app, dataDir, (l) => lines3.push(l));
  assert.ok(lines3.some((l) => l.includes('installing')), lines3.join('\n'));
  assert.ok(fs.existsSync(path.join(depsDir!, 'node_modules', 'is-number')));
});

test('a package that does not exist: the error names it', { timeout: 180_000 }, async () => {
  const app = appWith('missing', { dependencies: { 'atrium-no-such-package-7f3k2': '1.0.0' } });
  await assert.rejects(ensureDependencies(app, path.join(tmp, 'data2'), () => {}), (e: Error) => {
    assert.equal(e.name, 'DependencyInstallError');
    assert.match(e.message, /atrium-no-such-package-7f3k2@1\.0\.0 do not exist in the npm registry/);
    return true;
  });
  assert.equal(fs.existsSync(path.join(tmp, 'data2', 'deps', 'missing-abcde', '.atrium-deps-stamp')), false, 'no stamp after a failure');
});

test('a version that does not exist: the error names package and version', { timeout: 180_000 }, async () => {
  const app = appWith('badversion', { dependencies: { 'is-number': '99.99.99' } });
  await assert.rejects(ensureDependencies(app, path.join(tmp, 'data3'), () => {}), /is-number@99\.99\.99 do not exist in the npm registry/);
});

test('registry unreachable: the error says so and names the packages', { timeout: 180_000 }, async () => {
  // A port that was just free on 127.0.0.1: connections are refused.
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const app = appWith('offline', { dependencies: { 'is-number': '7.0.0' } });
  await assert.rejects(
    ensureDependencies(app, path.join(tmp, 'data4'), () => {}, {
      npmArgs: [`--registry=http://127.0.0.1:${port}/`, `--cache=${path.join(tmp, 'empty-cache')}`, '--prefer-online'],
    }),
    /the npm registry could not be reached while installing is-number@7\.0\.0/,
  );
});

test('invalid package.json is a clear error', async () => {
  await assert.rejects(ensureDependencies(appWith('badjson', '{ nope'), path.join(tmp, 'data5'), () => {}), /functions\/package.json is not valid JSON/);
  await assert.rejects(ensureDependencies(appWith('badver', { dependencies: { a: 1 } }), path.join(tmp, 'data5'), () => {}), /the version of "a" must be a string/);
});

test('describeNpmFailure reads npm 11 output', () => {
  const deps = { '@scope/pkg': '^1.0.0', other: '2.0.0' };
  assert.match(
    describeNpmFailure('npm error code E404\nnpm error 404 Not Found - GET https://registry.npmjs.org/@scope%2fpkg - Not found\n', deps),
    /the package\(s\) @scope\/pkg@\^1\.0\.0 do not exist/,
  );
  assert.match(describeNpmFailure('npm error code ECONNREFUSED\n', deps), /could not be reached while installing @scope\/pkg@\^1\.0\.0, other@2\.0\.0/);
  assert.match(describeNpmFailure('npm error something odd\n', deps), /npm install failed for .* npm said: npm error something odd/);
});
