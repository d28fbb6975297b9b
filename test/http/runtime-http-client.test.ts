// Issue 3 item 3 through the real `atrium serve`: functions call context.http against a local node:http server
// this test starts on 127.0.0.1 (its URL reaches the function in the query string). Never an outside host.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { FIXTURES, startAtrium, tempDir } from '../helpers/server';
import type { RunningServer } from '../helpers/server';
import { startEchoServer } from '../fixtures/local-http/echo-server';
import type { EchoServer } from '../fixtures/local-http/echo-server';

const APP = path.join(FIXTURES, 'runtime-app');
let srv: RunningServer;
let echo: EchoServer;
let appCopy: string;

async function call(route: string, query: Record<string, string>): Promise<{ status: number; text: string; json: () => any }> {
  const res = await fetch(`${srv.endpointBase}${route}?${new URLSearchParams(query)}`, { signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}

before(async () => {
  echo = await startEchoServer();
  appCopy = tempDir('atrium-runtime-app-');
  fs.cpSync(APP, appCopy, { recursive: true });
  fs.rmSync(path.join(appCopy, 'functions', 'package.json'));
  srv = await startAtrium(appCopy, { args: ['--function-timeout-ms', '5000', '--workers', '2'] });
});

after(async () => {
  await srv?.stop();
  await echo?.close();
  if (srv) fs.rmSync(srv.dataDir, { recursive: true, force: true });
  if (appCopy) fs.rmSync(appCopy, { recursive: true, force: true });
});

describe('context.http (item 3, §11.2)', () => {
  test('get: header arrays and cookies are sent; the response has status, headers as arrays, cookies and a Binary body', async () => {
    const r = await call('/http/get', { base: echo.base });
    assert.equal(r.status, 200, r.text);
    const g = r.json();
    assert.equal(g.status, '201 Made It');
    assert.equal(g.statusCode, 201);
    assert.equal(g.contentLength, g.bodyLength);
    assert.deepEqual(g.headers['Content-Type'], ['application/json']);
    assert.deepEqual(g.headers['X-Multi'], ['one', 'two']);
    assert.deepEqual(g.cookies, { session: 'abc123', theme: 'dark' });
    assert.equal(g.bodyIsBinary, true);
    assert.equal(g.seen.method, 'GET');
    assert.equal(g.seen.url, '/echo?a=1');
    assert.equal(g.seen.headers['x-multi'], 'one, two');
    assert.equal(g.seen.headers['x-single'], 'solo');
    assert.equal(g.seen.headers.cookie, 'session=abc123; theme=dark');
  });

  test('the URL can be given as its parts (scheme, host, path, query arrays, username/password)', async () => {
    const r = await call('/http/parts', { host: `127.0.0.1:${echo.port}` });
    assert.equal(r.status, 200, r.text);
    const seen = r.json();
    assert.equal(seen.url, '/echo?id=8675309&color=red&color=blue');
    assert.equal(seen.headers.authorization, `Basic ${Buffer.from('user:p@ss').toString('base64')}`);
  });

  test('post (string), put (Binary body), patch (encodeBodyAsJSON), delete and head', async () => {
    const r = await call('/http/verbs', { base: echo.base });
    assert.equal(r.status, 200, r.text);
    const v = r.json();
    assert.equal(v.post.method, 'POST');
    assert.equal(v.post.body, 'plain text');
    assert.equal(v.post.headers['content-type'], 'text/plain');
    assert.equal(v.put.method, 'PUT');
    assert.equal(v.put.bodyHex, '00ff10');
    assert.equal(v.patch.method, 'PATCH');
    assert.deepEqual(JSON.parse(v.patch.body), { n: 5, when: { $date: '1970-01-01T00:00:00.000Z' }, id: { $oid: '5e58667d902d38559c802b13' } });
    assert.equal(v.patch.headers['content-type'], 'application/json');
    assert.equal(v.delete.method, 'DELETE');
    assert.deepEqual(v.head, { statusCode: 201, bodyIsUndefined: true, contentType: ['application/json'] });
    assert.equal(echo.seen.filter((s) => s.method === 'HEAD').length >= 1, true, 'the HEAD request reached the server');
  });

  test('form: multipart/form-data by default, urlencoded when declared', async () => {
    const r = await call('/http/form', { base: echo.base });
    assert.equal(r.status, 200, r.text);
    const { multipart, urlencoded } = r.json();
    const ct = String(multipart.headers['content-type']);
    assert.match(ct, /^multipart\/form-data; boundary=/);
    const boundary = ct.split('boundary=')[1];
    assert.equal(
      multipart.body,
      `--${boundary}\r\nContent-Disposition: form-data; name="to-address"\r\n\r\nname@example.com\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="subject"\r\n\r\nhi there\r\n--${boundary}--\r\n`,
    );
    assert.equal(urlencoded.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(urlencoded.body, 'a=x+y&b=1&b=2');
  });

  test('redirects are returned as they are unless followRedirects is set', async () => {
    const r = await call('/http/redirect', { base: echo.base });
    assert.equal(r.status, 200, r.text);
    const { raw, followed } = r.json();
    assert.deepEqual(raw, { statusCode: 302, location: ['/echo?from=redirect'] });
    assert.equal(followed.statusCode, 201);
    assert.equal(followed.seen.url, '/echo?from=redirect');
    assert.equal(followed.seen.method, 'GET', 'a 302 turns POST into GET, as Go does');
  });

  test('a refused connection fails the function with a clear error, the server keeps serving', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const r = await call('/http/refused', { url: `http://127.0.0.1:${port}/` });
    assert.equal(r.status, 400);
    assert.equal(r.json().error_code, 'FunctionExecutionError');
    assert.match(r.json().error, /ECONNREFUSED/);
    assert.equal((await call('/hello', {})).status, 200);
  });
});
