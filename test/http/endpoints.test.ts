// Integration tests: the real `atrium serve` on 127.0.0.1 against the http-core fixture app (realm-cli v2 layout).
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FIXTURES, startAtrium, tempDir } from '../helpers/server';
import type { RunningServer } from '../helpers/server';

const APP = path.join(FIXTURES, 'http-core');
const SIGN_SECRET = 'Super5ecr3tPa55w0rd';
let srv: RunningServer;

async function call(route: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; text: string; json: () => any }> {
  const res = await fetch(srv.endpointBase + route, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

before(async () => {
  const secretsFile = path.join(tempDir(), 'secrets.json');
  fs.writeFileSync(secretsFile, JSON.stringify({ signSecret: SIGN_SECRET }));
  srv = await startAtrium(APP, {
    args: ['--secrets', secretsFile, '--function-timeout-ms', '1500', '--workers', '2', '--max-body-bytes', '65536'],
    env: { ATRIUM_SECRET_QUERYSECRET: 'q-secret-1' },
  });
});

after(async () => {
  await srv?.stop();
});

describe('start-up', () => {
  test('prints the base URL and one line per endpoint with method, auth mode and validation', () => {
    const err = srv.stderr();
    assert.match(err, /Atrium serving app "http-core" \(httpcore-abcde\) at http:\/\/127\.0\.0\.1:\d+\/app\/httpcore-abcde\/endpoint/);
    assert.match(err, /GET +http:\/\/127\.0\.0\.1:\d+\/app\/httpcore-abcde\/endpoint\/hello +\[system; NO_VALIDATION\]/);
    assert.match(err, /POST +\S+\/signed +\[system; VERIFY_PAYLOAD\]/);
    assert.match(err, /GET +\S+\/appauth +\[application auth; NO_VALIDATION\]/);
    assert.match(err, /core\/doesNotExist/, 'the missing function is reported at start');
  });
});

describe('routing', () => {
  test('serves a GET endpoint with respond_result', async () => {
    const r = await call('/hello?name=Ada');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(r.json(), { message: 'hello Ada' });
  });

  test('routes are case-sensitive and exact', async () => {
    assert.equal((await call('/Mixed/Case-route')).status, 200);
    const lower = await call('/mixed/case-route');
    assert.equal(lower.status, 404);
    assert.equal(lower.json().error_code, 'EndpointNotFound');
    assert.equal((await call('/hello/')).status, 404);
  });

  test('a specific method beats *, and * takes every other method', async () => {
    assert.deepEqual((await call('/any')).json(), { handler: 'specific' });
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const r = await call('/any', { method, body: method === 'DELETE' ? undefined : '{}' });
      assert.equal(r.status, 200, method);
      assert.deepEqual(r.json(), { handler: 'any', method });
    }
  });

  test('unknown route, wrong method and disabled endpoints answer App Services error bodies with a log link', async () => {
    for (const [route, init] of [['/nope', {}], ['/echo', { method: 'GET' }], ['/disabled', {}]] as const) {
      const r = await call(route, init);
      assert.equal(r.status, 404, route);
      const body = r.json();
      assert.equal(body.error_code, 'EndpointNotFound');
      assert.equal(typeof body.error, 'string');
      assert.match(body.link, new RegExp(`^${srv.url}/_atrium/logs/[0-9a-f]+$`));
      const log = (await (await fetch(body.link)).json()) as { status: number; error_code: string };
      assert.equal(log.status, 404);
      assert.equal(log.error_code, 'EndpointNotFound');
    }
  });

  test('another app id and paths outside /app answer JSON errors', async () => {
    const r = await fetch(`${srv.url}/app/other-app/endpoint/hello`);
    assert.equal(r.status, 404);
    assert.equal(((await r.json()) as { error_code: string }).error_code, 'AppNotFound');
    const r2 = await fetch(`${srv.url}/favicon.ico`);
    assert.equal(r2.status, 404);
    assert.ok(((await r2.json()) as { error_code?: string }).error_code);
  });

  test('an endpoint whose function is missing answers FunctionNotFound while the rest serve', async () => {
    const r = await call('/missing');
    assert.equal(r.status, 404);
    assert.equal(r.json().error_code, 'FunctionNotFound');
    assert.match(r.json().error, /core\/doesNotExist/);
  });
});

describe('request object (§6)', () => {
  test('query keeps the first value, headers are arrays under canonical names, no body is undefined', async () => {
    const r = await call('/shape?a=1&a=2&b=x%20y&secret=hide', { headers: { 'x-custom-header': 'v1', apikeyish: 'k', 'User-Agent': 'atrium-test' } });
    assert.equal(r.status, 200);
    const s = r.json();
    assert.deepEqual(s.query, { a: '1', b: 'x y' });
    assert.deepEqual(s.headers['X-Custom-Header'], ['v1']);
    assert.deepEqual(s.headers['Apikeyish'], ['k']);
    assert.equal(s.headers['x-custom-header'], undefined);
    assert.equal(s.bodyIsUndefined, true);
    assert.equal(s.rawQueryString, 'a=1&a=2&b=x%20y');
    assert.deepEqual(s.requestHeaders['X-Custom-Header'], ['v1']);
    assert.equal(s.httpMethod, 'GET');
    assert.equal(s.userAgent, 'atrium-test');
    assert.match(s.remoteIPAddress, /127\.0\.0\.1/);
  });

  test('body is a Binary with .text() over the raw bytes', async () => {
    const raw = '{ "message": "Héllo!" }';
    const r = await call('/shape', { method: 'POST', body: raw, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    const s = r.json();
    assert.equal(s.bodyIsUndefined, false);
    assert.equal(s.bodyText, raw);
    assert.equal(s.bodySubtype, 0);
    assert.equal(s.bodyBackingBytes, Buffer.byteLength(raw));
  });

  test('every byte value of a binary body arrives unchanged, small or large', async () => {
    for (const size of [256, 40_000]) {
      const bytes = Buffer.from(Array.from({ length: size }, (_, i) => (i * 7 + 3) % 256));
      const r = await call('/shape', { method: 'POST', body: bytes, headers: { 'Content-Type': 'application/octet-stream' } });
      assert.equal(r.status, 200, r.text);
      const s = r.json();
      assert.equal(s.bodyHex, bytes.toString('hex'), `${size} bytes`);
      assert.equal(s.bodyBackingBytes, size);
    }
  });

  test('JSON.parse(body.text()) round trip', async () => {
    const r = await call('/echo', { method: 'POST', body: JSON.stringify({ a: [1, 2, { b: null }], s: 'x' }) });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json(), { a: [1, 2, { b: null }], s: 'x' });
  });

  test('malformed JSON in the body gives FunctionExecutionError with the parse message', async () => {
    const r = await call('/echo', { method: 'POST', body: '{not json' });
    assert.equal(r.status, 400);
    assert.equal(r.json().error_code, 'FunctionExecutionError');
    assert.match(r.json().error, /JSON/);
  });

  test('bodies over the limit get 413 and the server keeps serving', async () => {
    const r = await call('/echo', { method: 'POST', body: 'x'.repeat(70_000) });
    assert.equal(r.status, 413);
    assert.equal(r.json().error_code, 'ReadSizeLimitExceeded');
    assert.equal((await call('/hello')).status, 200);
  });
});

describe('response (§7)', () => {
  test('respond_result false and nothing set: 204 with an empty body', async () => {
    const r = await call('/nothing');
    assert.equal(r.status, 204);
    assert.equal(r.text, '');
  });

  test('respond_result false with setStatusCode + setBody: both honoured, return value ignored', async () => {
    const r = await call('/setbody');
    assert.equal(r.status, 201);
    assert.equal(r.text, 'created');
  });

  test('respond_result true with a status but no setBody: that status and the serialized return value', async () => {
    const r = await call('/status-and-return');
    assert.equal(r.status, 202);
    assert.deepEqual(r.json(), { accepted: true });
  });

  test('setBody wins over the return value', async () => {
    const r = await call('/setbody-wins');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json(), { from: 'setBody' });
  });

  test('the response object is chainable and addHeader appends', async () => {
    const r = await call('/chain');
    assert.equal(r.status, 418);
    assert.equal(r.text, 'short and stout');
    assert.equal(r.headers.get('x-tea'), '1, 2');
  });

  test('returned promises are awaited and cursor-like results drained', async () => {
    assert.deepEqual((await call('/promise')).json(), { late: true });
    assert.deepEqual((await call('/cursor')).json(), [{ n: 1 }, { n: 2 }]);
  });

  test('returning undefined with respond_result gives 200 and an empty body', async () => {
    const r = await call('/undefined');
    assert.equal(r.status, 200);
    assert.equal(r.text, '');
  });
});

describe('JSON vs EJSON (§7.3)', () => {
  test('JSON mode maps BSON types the Go way', async () => {
    const r = await call('/types');
    assert.deepEqual(r.json(), {
      oid: '5d505646cf6d4fe581014ab2',
      date: '2022-01-12T02:33:23.067Z',
      dec: '9823.1297',
      int: 42,
      dbl: 10.5,
      nested: { list: [1, 'two', { three: 3 }] },
    });
  });

  test('return_type EJSON gives canonical EJSON', async () => {
    const r = await call('/types-ejson');
    assert.match(r.headers.get('content-type') ?? '', /application\/ejson/);
    const b = r.json();
    assert.deepEqual(b.oid, { $oid: '5d505646cf6d4fe581014ab2' });
    assert.deepEqual(b.date, { $date: { $numberLong: '1641954803067' } });
    assert.deepEqual(b.dec, { $numberDecimal: '9823.1297' });
    assert.deepEqual(b.dbl, { $numberDouble: '10.5' });
    assert.ok(b.int.$numberLong === '42' || b.int.$numberInt === '42', JSON.stringify(b.int));
  });

  test('the Accept header overrides return_type both ways', async () => {
    const e = await call('/types', { headers: { Accept: 'application/ejson' } });
    assert.deepEqual(e.json().oid, { $oid: '5d505646cf6d4fe581014ab2' });
    const j = await call('/types-ejson', { headers: { Accept: 'application/json' } });
    assert.equal(j.json().oid, '5d505646cf6d4fe581014ab2');
    const other = await call('/types', { headers: { Accept: 'text/html, */*' } });
    assert.equal(other.json().oid, '5d505646cf6d4fe581014ab2');
  });
});

describe('runtime (§4.2, §11)', () => {
  test('a function that throws answers FunctionExecutionError with its message', async () => {
    const r = await call('/throws');
    assert.equal(r.status, 400);
    assert.equal(r.json().error_code, 'FunctionExecutionError');
    assert.equal(r.json().error, 'boom: something went wrong');
  });

  test('context.functions.execute calls a private function', async () => {
    const r = await call('/sum', { method: 'POST', body: JSON.stringify({ a: 2, b: 40 }) });
    assert.deepEqual(r.json(), { sum: 42 });
  });

  test('values, environment, app and runningAsSystem', async () => {
    const c = (await call('/context')).json();
    assert.equal(c.greeting, 'hi there');
    assert.deepEqual(c.settings, { pageSize: 20, tags: ['a', 'b'] });
    assert.equal(c.unknownValue, true);
    assert.equal(c.environment.tag, 'development');
    assert.equal(c.environment.values.dbName, 'devdb');
    assert.equal(c.appName, 'http-core');
    assert.equal(c.clientAppId, 'httpcore-abcde');
    assert.equal(c.system, true);
  });

  test('console output is captured into the log record, not printed', async () => {
    const r = await call('/console');
    assert.equal(r.status, 200);
    await new Promise((res) => setTimeout(res, 50));
    const line = srv.logLines().reverse().find((l) => l.route === '/console');
    assert.ok(line, 'a log line for /console');
    assert.ok(Array.isArray(line.logs) && (line.logs as string[]).some((l) => l.includes('first line')), JSON.stringify(line));
    assert.ok(!srv.stderr().includes('first line'));
  });

  test('a loop after await is stopped at the time limit while other requests keep being answered', async () => {
    const looping = call('/loop');
    const t0 = Date.now();
    const others: Array<Promise<number>> = [];
    while (Date.now() - t0 < 1200) {
      others.push(call('/hello').then((r) => r.status));
      await new Promise((res) => setTimeout(res, 50));
    }
    const r = await looping;
    assert.equal(r.status, 400);
    assert.equal(r.json().error_code, 'ExecutionTimeLimitExceeded');
    const statuses = await Promise.all(others);
    assert.ok(statuses.length >= 10);
    assert.deepEqual(new Set(statuses), new Set([200]));
    assert.equal((await call('/hello')).status, 200);
  });
});

describe('request validation (§10)', () => {
  test('SECRET_AS_QUERY_PARAM: right secret passes, wrong or missing fails, the secret is hidden from the function', async () => {
    assert.equal((await call('/secret?secret=q-secret-1&name=x')).status, 200);
    const wrong = await call('/secret?secret=nope');
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json().error_code, 'IncomingWebhookAuthFailed');
    assert.equal((await call('/secret')).status, 401);
    const dup = await call('/secret?secret=q-secret-1&secret=other');
    assert.equal(dup.status, 400);
  });

  test('VERIFY_PAYLOAD: the spec vector (raw body bytes) verifies', async () => {
    const body = '{ "message": "Hello!" }';
    const sig = 'sha256=d4f0537db4e230d7a6028a6f7c3bb1b57c9d16f39176d78697e559ac333e0b36';
    assert.equal(createHmac('sha256', SIGN_SECRET).update(body).digest('hex'), sig.slice(7));
    const r = await call('/signed', { method: 'POST', body, headers: { 'Endpoint-Signature': sig } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json(), { received: body });
    const colon = await call('/signed', { method: 'POST', body, headers: { 'Endpoint-Signature': ':' + sig.toUpperCase().replace('SHA256', 'sha256') } });
    assert.equal(colon.status, 200);
  });

  test('VERIFY_PAYLOAD: the compact serialization, a missing header and a bad prefix are refused', async () => {
    const sig = 'sha256=d4f0537db4e230d7a6028a6f7c3bb1b57c9d16f39176d78697e559ac333e0b36';
    const compact = await call('/signed', { method: 'POST', body: '{"message":"Hello!"}', headers: { 'Endpoint-Signature': sig } });
    assert.equal(compact.status, 401);
    assert.equal(compact.json().error_code, 'IncomingWebhookAuthFailed');
    assert.equal((await call('/signed', { method: 'POST', body: '{}' })).status, 401);
    const noPrefix = await call('/signed', { method: 'POST', body: '{ "message": "Hello!" }', headers: { 'Endpoint-Signature': sig.slice(7) } });
    assert.equal(noPrefix.status, 401);
  });
});

describe('auth (core)', () => {
  test('an application-auth endpoint called without credentials answers the §8.3 error', async () => {
    const r = await call('/appauth');
    assert.equal(r.status, 400);
    assert.deepEqual({ error: r.json().error, error_code: r.json().error_code }, { error: 'no authentication methods were specified', error_code: 'InvalidParameter' });
  });
});

describe('logs', () => {
  test('one structured line per request with method, route, status, ms and error_code', async () => {
    await call('/hello?name=log');
    await call('/throws');
    await new Promise((res) => setTimeout(res, 50));
    const lines = srv.logLines();
    const ok = lines.find((l) => l.route === '/hello' && l.status === 200);
    assert.ok(ok);
    assert.equal(ok.method, 'GET');
    assert.equal(typeof ok.ms, 'number');
    assert.equal(typeof ok.id, 'string');
    const bad = lines.find((l) => l.route === '/throws');
    assert.equal(bad?.error_code, 'FunctionExecutionError');
  });
});
