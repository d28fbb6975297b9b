// §6 request object and §7 response object / status-body table, through real worker threads.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { canonicalHeaderName, queryObject, rawQueryWithoutSecret } from '../../src/runtime/request-object';
import type { FunctionPool } from '../../src/runtime';
import { bodyJSON, bodyText, endpoint, header, makeApp, startPool } from './helpers';

describe('request helpers (Go net/http conventions)', () => {
  test('header names are canonicalized like Go', () => {
    assert.equal(canonicalHeaderName('content-type'), 'Content-Type');
    assert.equal(canonicalHeaderName('apikey'), 'Apikey');
    assert.equal(canonicalHeaderName('x-custom-header'), 'X-Custom-Header');
    assert.equal(canonicalHeaderName('X-CLUSTER-CLIENT-IP'), 'X-Cluster-Client-Ip');
    assert.equal(canonicalHeaderName('bad header'), 'bad header', 'names with non-token characters stay as they are');
  });

  test('query keeps the first value, decodes +/%XX, drops secret, malformed pairs and ; pairs', () => {
    assert.deepEqual(queryObject('a=1&a=2&b=x+y%21&secret=s3&c&%zz=1&d=1;2&=e'), { a: '1', b: 'x y!', c: '', '': 'e' });
    assert.deepEqual(queryObject(''), {});
    const q = queryObject('__proto__=x');
    assert.equal(Object.getPrototypeOf(q), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(q, '__proto__')?.value, 'x');
  });

  test('rawQueryString loses every secret pair and keeps the rest as sent', () => {
    assert.equal(rawQueryWithoutSecret('secret=hello&someParam=42'), 'someParam=42');
    assert.equal(rawQueryWithoutSecret('a=%20&secret=1&b=2&secret=3&secrets=4'), 'a=%20&b=2&secrets=4');
    assert.equal(rawQueryWithoutSecret('x=1'), 'x=1');
  });
});

describe('endpoint invocations', () => {
  let pool: FunctionPool;
  before(async () => {
    pool = await startPool(
      makeApp({
        echo: `exports = function (request, response) {
          const body = request.body;
          return {
            query: request.query,
            headers: request.headers,
            bodyUndefined: body === undefined,
            bodyIsBinary: body !== undefined && body._bsontype === 'Binary' && body.sub_type === 0,
            bodyText: body === undefined ? null : (typeof body.text === 'function' ? body.text() : Buffer.from(body.value()).toString()),
            keys: Object.keys(request).sort(),
            ctx: context.request,
          };
        }`,
        chain: `exports = function (req, res) {
          const same = res.setStatusCode(201) === res && res.setHeader('X-One', 'a') === res && res.addHeader('X-One', 'b') === res
            && res.setBody('made') === res;
          res.addHeader('Set-Cookie', 'a=1').addHeader('Set-Cookie', 'b=2');
          if (!same) throw new Error('not chainable');
        }`,
        table: `exports = async function (req, res) {
          const q = req.query;
          if (q.status) res.setStatusCode(Number(q.status));
          if (q.body !== undefined) res.setBody(q.body);
          if (q.ctype) res.setHeader('Content-Type', q.ctype);
          if (q.ret === 'undefined') return undefined;
          if (q.ret === 'response') return res;
          if (q.ret === 'string') return 'plain string';
          if (q.ret === 'null') return null;
          return { returned: true, n: 42 };
        }`,
        promiseAndCursor: `exports = async function (req) {
          const docs = [{ a: 1 }, { a: 2 }];
          if (req.query.kind === 'promise') return new Promise((resolve) => setTimeout(() => resolve({ late: true }), 5));
          if (req.query.kind === 'cursor') return { toArray: async () => docs };
          if (req.query.kind === 'promisedCursor') return Promise.resolve({ toArray: () => Promise.resolve(docs) });
          return 'none';
        }`,
        binaryBody: `exports = function (req, res) { res.setBody(BSON.Binary.fromBase64 ? BSON.Binary.fromBase64('AAEC/w==') : new BSON.Binary(Buffer.from([0, 1, 2, 255]))); res.setHeader('Content-Type', 'application/octet-stream'); }`,
        framing: `exports = function (req, res) {
          res.setHeader('Content-Length', '999').setHeader('Transfer-Encoding', 'chunked').setHeader('Connection', 'close')
            .setHeader('Keep-Alive', 'timeout=5').setHeader('Upgrade', 'h2c').setHeader('X-Kept', 'yes').setBody('ok');
        }`,
        injectValue: `exports = function (req, res) { res.setHeader('X-Evil', 'a\\r\\nSet-Cookie: stolen=1'); res.setBody('never'); }`,
        injectName: `exports = function (req, res) { res.addHeader('X-Evil\\r\\nX-Other', 'v'); }`,
        badStatus: `exports = function (req, res) { res.setStatusCode(Number(req.query.s)); return 'x'; }`,
        badBody: `exports = function (req, res) { res.setBody({ an: 'object' }); }`,
        ejson: `exports = function () { return { oid: new BSON.ObjectId('5f1d7a3b9c8e4a0012345678'), d: new Date(0), n: 3 }; }`,
        globalResponse: `exports = function () { const r = new HTTPResponse(); return typeof r.setStatusCode === 'function' && r.setStatusCode(200) === r; }`,
      }),
    );
  });
  after(() => pool.close());

  test('request object: first query value, secret removed, canonical header names with array values, body Binary', async () => {
    const result = await pool.invoke(
      endpoint('echo', {
        method: 'POST',
        rawQuery: 'a=1&a=2&secret=hunter2&name=J%C3%BCrgen',
        headers: [['content-type', 'application/json'], ['apikey', 'k'], ['x-custom-header', 'one'], ['X-Custom-Header', 'two'], ['user-agent', 'test-agent/1'], ['referer', 'http://ref.example/']],
        body: '{"hello":"world"}',
      }),
    );
    const got = bodyJSON(result) as Record<string, any>;
    assert.deepEqual(got.query, { a: '1', name: 'Jürgen' });
    assert.deepEqual(got.headers, {
      'Content-Type': ['application/json'],
      Apikey: ['k'],
      'X-Custom-Header': ['one', 'two'],
      'User-Agent': ['test-agent/1'],
      Referer: ['http://ref.example/'],
    });
    assert.equal(got.bodyUndefined, false);
    assert.equal(got.bodyIsBinary, true);
    assert.equal(got.bodyText, '{"hello":"world"}');
    assert.deepEqual(got.keys, ['body', 'headers', 'query']);
    assert.equal(got.ctx.remoteIPAddress, '203.0.113.7');
    assert.equal(got.ctx.rawQueryString, 'a=1&a=2&name=J%C3%BCrgen');
    assert.equal(got.ctx.httpMethod, 'POST');
    assert.equal(got.ctx.webhookUrl, '/test');
    assert.equal(got.ctx.httpUserAgent, 'test-agent/1');
    assert.equal(got.ctx.httpReferrer, 'http://ref.example/');
    assert.equal(got.ctx.action, 'echo');
    assert.deepEqual(got.ctx.requestHeaders['X-Custom-Header'], ['one', 'two']);
  });

  test('no body and an empty body are both `undefined`', async () => {
    for (const body of [undefined, new Uint8Array(0)]) {
      const got = bodyJSON(await pool.invoke(endpoint('echo', { body }))) as Record<string, any>;
      assert.equal(got.bodyUndefined, true);
      assert.equal(got.ctx.httpUserAgent, undefined);
    }
  });

  test('response methods chain; setBody wins; multi-valued headers kept in order', async () => {
    const result = await pool.invoke(endpoint('chain'));
    assert.equal(result.error, undefined);
    assert.equal(result.status, 201);
    assert.equal(bodyText(result), 'made');
    assert.deepEqual(header(result, 'X-One'), ['a', 'b']);
    assert.deepEqual(header(result, 'Set-Cookie'), ['a=1', 'b=2']);
    assert.deepEqual(header(result, 'Content-Type'), ['text/plain; charset=utf-8']);
  });

  const table: Array<{ name: string; respondResult: boolean; q: string; status: number; body: string; ctype?: string }> = [
    { name: 'respond_result, nothing set -> 200 + encoded return value', respondResult: true, q: '', status: 200, body: '{"returned":true,"n":42}', ctype: 'application/json' },
    { name: 'respond_result, setBody -> 200, body wins over return value', respondResult: true, q: 'body=set', status: 200, body: 'set', ctype: 'text/plain; charset=utf-8' },
    { name: 'respond_result, setBody + status', respondResult: true, q: 'body=set&status=202', status: 202, body: 'set' },
    { name: 'respond_result, status only -> that status + return value', respondResult: true, q: 'status=418', status: 418, body: '{"returned":true,"n":42}' },
    { name: 'respond_result, returns undefined -> empty body', respondResult: true, q: 'ret=undefined', status: 200, body: '' },
    { name: 'respond_result, returns the response object -> no return value', respondResult: true, q: 'ret=response&status=201', status: 201, body: '' },
    { name: 'respond_result, returns a string -> JSON string', respondResult: true, q: 'ret=string', status: 200, body: '"plain string"' },
    { name: 'respond_result, returns null -> null', respondResult: true, q: 'ret=null', status: 200, body: 'null' },
    { name: 'respond_result, setBody + function Content-Type', respondResult: true, q: 'body=%3Cb%3E&ctype=text%2Fhtml', status: 200, body: '<b>', ctype: 'text/html' },
    { name: 'no respond_result, nothing set -> 204 empty', respondResult: false, q: '', status: 204, body: '' },
    { name: 'no respond_result, setBody only -> 200 + body', respondResult: false, q: 'body=hi', status: 200, body: 'hi' },
    { name: 'no respond_result, status only -> status, no body', respondResult: false, q: 'status=302', status: 302, body: '' },
    { name: 'no respond_result, status + body', respondResult: false, q: 'status=400&body=bad', status: 400, body: 'bad' },
  ];
  for (const row of table) {
    test(`§7.2: ${row.name}`, async () => {
      const result = await pool.invoke(endpoint('table', { rawQuery: row.q, respondResult: row.respondResult }));
      assert.equal(result.error, undefined);
      assert.equal(result.status, row.status);
      assert.equal(bodyText(result), row.body);
      if (row.body === '') assert.equal(result.body, null);
      if (row.ctype) assert.deepEqual(header(result, 'content-type'), [row.ctype]);
    });
  }

  test('EJSON return type gives canonical EJSON and application/ejson', async () => {
    const json = await pool.invoke(endpoint('ejson', { returnType: 'JSON' }));
    const ejson = await pool.invoke(endpoint('ejson', { returnType: 'EJSON' }));
    assert.deepEqual(header(json, 'content-type'), ['application/json']);
    assert.deepEqual(header(ejson, 'content-type'), ['application/ejson']);
    const e = JSON.parse(bodyText(ejson));
    assert.deepEqual(e.oid, { $oid: '5f1d7a3b9c8e4a0012345678' });
    assert.deepEqual(e.d, { $date: { $numberLong: '0' } });
    const j = JSON.parse(bodyText(json));
    assert.equal(j.oid, '5f1d7a3b9c8e4a0012345678');
  });

  test('returned promises are awaited and cursors drained', async () => {
    assert.deepEqual(bodyJSON(await pool.invoke(endpoint('promiseAndCursor', { rawQuery: 'kind=promise' }))), { late: true });
    assert.deepEqual(bodyJSON(await pool.invoke(endpoint('promiseAndCursor', { rawQuery: 'kind=cursor' }))), [{ a: 1 }, { a: 2 }]);
    assert.deepEqual(bodyJSON(await pool.invoke(endpoint('promiseAndCursor', { rawQuery: 'kind=promisedCursor' }))), [{ a: 1 }, { a: 2 }]);
  });

  test('setBody with a BSON.Binary sends its bytes', async () => {
    const result = await pool.invoke(endpoint('binaryBody'));
    assert.equal(result.error, undefined);
    assert.deepEqual([...(result.body ?? [])], [0, 1, 2, 255]);
    assert.deepEqual(header(result, 'content-type'), ['application/octet-stream']);
  });

  test('framing headers set by a function are dropped, others kept', async () => {
    const result = await pool.invoke(endpoint('framing'));
    const names = result.headers.map(([n]) => n.toLowerCase());
    for (const dropped of ['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade']) assert.ok(!names.includes(dropped), dropped);
    assert.deepEqual(header(result, 'X-Kept'), ['yes']);
  });

  test('header injection (CR/LF in a value or name) fails the invocation with a clear error', async () => {
    for (const name of ['injectValue', 'injectName']) {
      const result = await pool.invoke(endpoint(name));
      assert.equal(result.error?.code, 'FunctionExecutionError');
      assert.match(result.error?.message ?? '', /CR, LF or NUL/);
      assert.equal(result.headers.length, 0);
    }
  });

  test('a status outside 200-599 fails the invocation', async () => {
    for (const s of ['199', '600', '0', 'NaN', '200.5']) {
      const result = await pool.invoke(endpoint('badStatus', { rawQuery: `s=${s}` }));
      assert.equal(result.error?.code, 'FunctionExecutionError', s);
      assert.match(result.error?.message ?? '', /200 to 599/);
    }
    assert.equal((await pool.invoke(endpoint('badStatus', { rawQuery: 's=599' }))).status, 599);
  });

  test('setBody with a plain object is refused with a hint', async () => {
    const result = await pool.invoke(endpoint('badBody'));
    assert.equal(result.error?.code, 'FunctionExecutionError');
    assert.match(result.error?.message ?? '', /string or a BSON.Binary/);
  });

  test('HTTPResponse is a global constructor of the same response object', async () => {
    assert.equal(bodyJSON(await pool.invoke(endpoint('globalResponse'))), true);
  });
});
