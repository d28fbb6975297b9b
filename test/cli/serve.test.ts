// The CLI as a user meets it: --help on every command, SIGTERM finishing in-flight requests.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { FIXTURES, REPO_ROOT, runCli, startAtrium } from '../helpers/server';

test('--help works for the top level and for every command', async () => {
  const top = await runCli(['--help']);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /Usage: atrium <command>/);
  for (const cmd of ['serve', 'data', 'users', 'apikeys', 'rules']) {
    const r = await runCli([cmd, '--help']);
    assert.equal(r.code, 0, `${cmd} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`atrium ${cmd}`), cmd);
  }
});

test('unknown commands and options fail with a clear message', async () => {
  const r = await runCli(['frobnicate']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command "frobnicate"/);
  const o = await runCli(['serve', path.join(FIXTURES, 'http-core'), '--bogus']);
  assert.equal(o.code, 2);
  assert.match(o.stderr, /unknown option --bogus/);
});

test('serve on a directory that does not exist fails naming it', async () => {
  const r = await runCli(['serve', '/nonexistent/app-dir', '--port', '0']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\/nonexistent\/app-dir/);
});

test('SIGTERM finishes in-flight requests, then exits 0', async () => {
  const srv = await startAtrium(path.join(FIXTURES, 'http-core'));
  const inflight = fetch(`${srv.endpointBase}/slow?ms=600`).then(async (r) => ({ status: r.status, body: await r.json() }));
  await new Promise((r) => setTimeout(r, 150));
  const code = srv.stop('SIGTERM');
  const res = await inflight;
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { slept: 600 });
  assert.equal(await code, 0);
});

test('a MongoDB data source that cannot be reached is reported at start and fails requests clearly, never hangs', async () => {
  const demo = path.join(REPO_ROOT, 'examples', 'demo-app');
  const srv = await startAtrium(demo, {
    args: ['--secrets', path.join(demo, 'secrets.example.json'), '--mongodb-uri', 'mongodb-atlas=mongodb://127.0.0.1:1/'],
    // The data layer's own setting must reach the worker threads, whose environment is otherwise empty.
    env: { ATRIUM_MONGODB_TIMEOUT_MS: '400' },
  });
  try {
    assert.match(srv.stderr(), /error: data source "mongodb-atlas": /);
    const t0 = Date.now();
    const r = await fetch(`${srv.endpointBase}/notes`, { signal: AbortSignal.timeout(15_000) });
    assert.equal(r.status, 400);
    const body = (await r.json()) as { error: string; error_code: string };
    assert.equal(body.error_code, 'FunctionExecutionError');
    assert.match(body.error, /mongodb-atlas/);
    assert.match(body.error, /gave up after 400 ms/);
    assert.ok(Date.now() - t0 < 15_000);
    // The rest of the app is still served.
    assert.equal((await fetch(`${srv.endpointBase}/hello`)).status, 200);
  } finally {
    await srv.stop();
  }
});

test('the supervisor starts a new server process on the same port when the server process dies', async () => {
  const srv = await startAtrium(path.join(FIXTURES, 'http-core'));
  try {
    const pid = Number(/\(pid (\d+)\)/.exec(srv.stderr())?.[1]);
    assert.ok(pid > 0 && pid !== srv.proc.pid, 'the server runs in a child of the supervisor');
    assert.equal((await fetch(`${srv.endpointBase}/hello`)).status, 200);
    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 15_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = await fetch(`${srv.endpointBase}/hello`).then((r) => r.status, () => 0);
      if (status === 200 && /starting a new one/.test(srv.stderr())) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 200);
    assert.match(srv.stderr(), /the server process died \(signal SIGKILL\)/);
    const pids = [...srv.stderr().matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1]));
    assert.equal(pids.length, 2);
    assert.notEqual(pids[1], pid);
  } finally {
    assert.equal(await srv.stop(), 0);
  }
});
