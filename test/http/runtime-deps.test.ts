// Issue 3 item 5 through the real `atrium serve`: functions/package.json dependencies (is-number, lodash, axios)
// are installed by the server into its --data-dir on start (this needs the npm registry, the only network used),
// then required inside and at the top of function files, through subpaths, and from an ES-module-style file.
// The server is started once; a restart on the same data dir checks that an unchanged install is skipped.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { FIXTURES, startAtrium, tempDir } from '../helpers/server';
import type { RunningServer } from '../helpers/server';
import { startEchoServer } from '../fixtures/local-http/echo-server';
import type { EchoServer } from '../fixtures/local-http/echo-server';

const APP = path.join(FIXTURES, 'runtime-app');
let srv: RunningServer;
let echo: EchoServer;
const dataDirs: string[] = [];

async function call(route: string, query: Record<string, string> = {}): Promise<{ status: number; text: string; json: () => any }> {
  const res = await fetch(`${srv.endpointBase}${route}?${new URLSearchParams(query)}`, { signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}

before(async () => {
  echo = await startEchoServer();
  // The first start runs `npm install` for the app: allow it time.
  srv = await startAtrium(APP, { args: ['--function-timeout-ms', '5000', '--workers', '2'], timeoutMs: 180_000 });
  dataDirs.push(srv.dataDir);
});

after(async () => {
  await srv?.stop();
  await echo?.close();
  for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('npm dependencies (item 5, §4.3)', () => {
  test('the server installed functions/package.json into its data dir', () => {
    assert.match(srv.stderr(), /installed npm dependencies for app runtime-app-abcde/);
    const installed = path.join(srv.dataDir, 'deps', 'runtime-app-abcde', 'node_modules');
    for (const [name, version] of [['is-number', '7.0.0'], ['lodash', '4.17.21']]) {
      const pkg = JSON.parse(fs.readFileSync(path.join(installed, name, 'package.json'), 'utf8')) as { version: string };
      assert.equal(pkg.version, version);
    }
  });

  test('require inside a function, with a subpath (lodash/cloneDeep)', async () => {
    const r = await call('/deps/inside');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json(), {
      isNumber: [true, true, false],
      originalList: [1, 2],
      copyList: [1, 2, 3],
      chunked: [[1, 2], [3, 4], [5]],
      version: '4.17.21',
    });
  });

  test('require at the top of a function file', async () => {
    const r = await call('/deps/top', { n: '12' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json(), { picked: { a: 1, c: 3 }, isNumber: true });
    assert.equal((await call('/deps/top', { n: 'twelve' })).json().isNumber, false);
  });

  test('a function file written as an ES module (import / export default)', async () => {
    const r = await call('/deps/esm', { n: '3' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json(), { isNumber: true, cloned: { a: [1] }, chunked: [[1, 2], [3]], sameChunk: true });
  });

  test("require('axios').default makes a request to a local server", async () => {
    const r = await call('/deps/axios', { base: echo.base });
    assert.equal(r.status, 200, r.text);
    const a = r.json();
    assert.equal(a.status, 201);
    assert.equal(a.isFunction, true);
    assert.equal(a.seen.url, '/echo?via=axios');
    assert.equal(a.seen.headers['x-via'], 'axios');
  });

  test('a package that is not installed fails with an error naming it; refused modules say so', async () => {
    const r = await call('/deps/missing');
    assert.equal(r.status, 400);
    assert.equal(r.json().error_code, 'FunctionExecutionError');
    assert.match(r.json().error, /'left-pad'/);
    assert.match(r.json().error, /functions\/package\.json/);
    const refused = await call('/deps/refused');
    assert.equal(refused.status, 400);
    assert.match(refused.json().error, /child_process is not supported in functions/);
    assert.equal((await call('/deps/inside')).status, 200);
  });

  test('a restart on the same data dir skips the unchanged install', async () => {
    const dataDir = srv.dataDir;
    await srv.stop();
    srv = await startAtrium(APP, { args: ['--function-timeout-ms', '5000', '--workers', '1'], dataDir, timeoutMs: 30_000 });
    assert.match(srv.stderr(), /npm dependencies for app runtime-app-abcde are unchanged/);
    assert.doesNotMatch(srv.stderr(), /installing npm dependencies/);
    assert.equal((await call('/deps/top', { n: '1' })).json().isNumber, true);
  });

  test('an unreachable registry stops the start with an error naming the packages', async () => {
    // A registry URL on a port nothing listens on.
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const dataDir = tempDir('atrium-data-');
    dataDirs.push(dataDir);
    await assert.rejects(
      async () => {
        const s = await startAtrium(APP, { dataDir, env: { npm_config_registry: `http://127.0.0.1:${port}/`, npm_config_cache: path.join(dataDir, 'empty-npm-cache') }, timeoutMs: 90_000 });
        await s.stop();
      },
      (e: Error) => {
        assert.match(e.message, /exited with/);
        assert.match(e.message, /is-number@7\.0\.0/);
        assert.match(e.message, /lodash@4\.17\.21/);
        assert.match(e.message, /registry could not be reached|ECONNREFUSED/);
        return true;
      },
    );
  });
});
