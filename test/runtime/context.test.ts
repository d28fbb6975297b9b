// §11.1 context, functions.execute, console capture, errors and function (non-endpoint) invocations.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { EJSON } from 'bson';
import type { FunctionPool, UserInfo } from '../../src/runtime';
import { bodyJSON, bodyText, call, endpoint, makeApp, request, startPool } from './helpers';

const alice: UserInfo = {
  id: '65a000000000000000000001',
  type: 'normal',
  data: { email: 'alice@example.com' },
  custom_data: { team: 'blue', since: { $date: { $numberLong: '0' } } },
  identities: [{ id: 'alice-id', provider_type: 'local-userpass' }],
};

describe('context and function invocations', () => {
  let pool: FunctionPool;
  before(async () => {
    pool = await startPool(
      makeApp({
        ctx: `exports = function () {
          return {
            app: context.app,
            environment: context.environment,
            greeting: context.values.get('greeting'),
            config: context.values.get('config'),
            missing: context.values.get('nope') === undefined,
            system: context.runningAsSystem(),
            user: context.user,
            sinceIsDate: context.user.custom_data.since instanceof Date,
            hasHttp: typeof context.http === 'object',
            hasServicesGet: typeof context.services.get === 'function',
          };
        }`,
        realms: `exports = function () {
          class MyError extends Error {}
          let hostError;
          try { BSON.ObjectId('not hex'); } catch (e) { hostError = e; }
          return [
            Buffer.from('x') instanceof Uint8Array,
            hostError instanceof Error,
            context.values.get('config') instanceof Object,
            context.values.get('config').tags instanceof Array,
            [] instanceof Array,
            new MyError() instanceof MyError,
            new MyError() instanceof Error,
            new Error() instanceof MyError,
            new Error() instanceof TypeError,
            ({}) instanceof Array,
          ];
        }`,
        mutateValue: `exports = function () { const c = context.values.get('config'); c.limit = 99; c.tags.push('z'); return context.values.get('config'); }`,
        mutateShared: `exports = function () {
          'use strict';
          const attempts = [];
          const hostObjectPrototype = Object.getPrototypeOf(Object.getPrototypeOf(Buffer.from('x').buffer));
          for (const f of [() => { context.environment.values.dbName = 'x'; }, () => { context.app.name = 'x'; }, () => { BSON.ObjectId = null; }, () => { Object.prototype.polluted = 1; }, () => { Array.prototype.push = null; },
            () => { Object.getPrototypeOf(context.values.get('config')).polluted = 1; }, () => { hostObjectPrototype.polluted = 1; }, () => { Buffer.prototype.toString = null; }, () => { process.env.X = '1'; }]) {
            try { f(); attempts.push('changed'); } catch (e) { attempts.push('refused'); }
          }
          return { attempts, polluted: ({}).polluted === undefined ? 'clean' : 'polluted' };
        }`,
        pollutionProbe: `exports = function () { return { obj: ({}).polluted === undefined && context.values.get('config').polluted === undefined, arr: typeof [].push, env: context.environment.values.dbName, bson: typeof BSON.ObjectId, buf: Buffer.from('ok').toString() }; }`,
        caller: `exports = async function (arg) {
          const headers = { authorization: 'x' };
          const r1 = await context.functions.execute('helpers/mutate', headers);
          const r2 = context.functions.execute('helpers/sync', 2, 3);
          const nested = await context.functions.execute('helpers/nested', 1);
          let notFound;
          try { context.functions.execute('helpers/none'); } catch (e) { notFound = e.message; }
          return { sameObject: r1 === headers, mutated: headers.user, r2, nested, notFound, arg };
        }`,
        'helpers/mutate': { source: `exports = async function (h) { h.user = 'stored-by-callee'; return h; }`, private: true },
        'helpers/sync': { source: `exports = (a, b) => a * b;`, private: true },
        'helpers/nested': { source: `exports = async (n) => n >= 3 ? ['done', context.runningAsSystem()] : context.functions.execute('helpers/nested', n + 1);`, private: true },
        logs: `exports = function () {
          console.log('plain', 1, { a: [1, 2] });
          console.info('info %s=%d', 'x', 5);
          console.warn('warn'); console.error(new Error('boom').message); console.debug('debug');
          [1].forEach(console.log);
          for (let i = 0; i < 30; i++) console.log('line ' + i);
          console.log('x'.repeat(2000));
          console.log('é'.repeat(400));
          return 'ok';
        }`,
        throws: `exports = function () { throw new Error('something broke'); }`,
        throwsAsync: `exports = async function () { await null; throw new TypeError('async broke'); }`,
        throwsValue: `exports = function () { throw 'a plain string'; }`,
        throwsObject: `exports = function () { throw { code: 7 }; }`,
        syntax: `exports = function () { return {; }`,
        notAFunction: `exports = 42;`,
        moduleCheck: `if (typeof module !== 'undefined') { module.exports = 'test branch'; }
          const topLevel = typeof require;
          exports = function () { return { module: typeof module, topLevel, exportsType: typeof exports }; };`,
        strict: `'use strict';\nexports = function () { return (function () { return this === undefined; })(); };`,
        sum: `exports = function (a, b, opts) { return { sum: a + b, isDate: opts.when instanceof Date, oid: opts.id.toHexString(), big: opts.big }; }`,
        returnsUndefined: `exports = function () {}`,
        processPolicy: `exports = function () {
          const out = {};
          for (const name of ['exit', 'kill', 'abort', 'chdir', 'setuid', 'dlopen', 'binding', 'reallyExit']) {
            try { process[name](0); out[name] = 'ran'; } catch (e) { out[name] = e.message; }
          }
          out.env = Object.keys(process.env).length;
          out.cwdIsString = typeof process.cwd() === 'string';
          out.hr = Array.isArray(process.hrtime()) && typeof process.hrtime.bigint() === 'bigint';
          out.version = process.version;
          out.escape = (() => { try { return globalThis.constructor.constructor('return process')().pid; } catch (e) { return 'threw'; } })();
          out.hostFunctionCtor = (() => { try { context.values.get.constructor('return process')(); return 'compiled'; } catch (e) { return e.name; } })();
          out.serverEnv = (() => { try { return Object.keys(console.log.constructor('return process')().env).length; } catch (e) { return e.name; } })();
          return out;
        }`,
        exitThenWork: `exports = function () { try { process.exit(1); } catch (e) {} return 'still here'; }`,
        childProcess: `exports = function () { try { require('child_process'); return 'loaded'; } catch (e) { return e.message; } }`,
        inline: `exports = function () { return 'named'; }`,
      }),
    );
  });
  after(() => pool.close());

  test('context.app, environment, values, runningAsSystem, user', async () => {
    const got = EJSON.parse(bodyText(await pool.invoke(call('ctx', '[]', { user: alice, runAsSystem: false })))) as Record<string, any>;
    assert.deepEqual(got.app, {
      id: '5f1d7a3b9c8e4a0012345678',
      clientAppId: 'runtime-test-abcde',
      name: 'runtime-test',
      projectId: '5f1d7a3b9c8e4a0087654321',
      deployment: { model: 'LOCAL', providerRegion: 'aws-eu-west-1' },
      lastDeployed: got.app.lastDeployed,
      hostingUri: '',
    });
    assert.ok(!Number.isNaN(Date.parse(got.app.lastDeployed)));
    assert.deepEqual(got.environment, { tag: 'production', values: { dbName: 'prod-db', nested: { flag: true } } });
    assert.equal(got.greeting, 'hello');
    assert.deepEqual(got.config, { limit: 5, tags: ['a', 'b'] });
    assert.equal(got.missing, true);
    assert.equal(got.system, false);
    assert.equal(got.user.id, alice.id);
    assert.equal(got.user.custom_data.team, 'blue');
    assert.equal(got.sinceIsDate, true, 'EJSON in custom_data is revived');
    assert.equal(got.hasHttp, true);
    assert.equal(got.hasServicesGet, true);

    const sys = EJSON.parse(bodyText(await pool.invoke(call('ctx')))) as Record<string, any>;
    assert.equal(sys.system, true);
    assert.deepEqual(sys.user, { id: '', type: 'system', data: {}, custom_data: {}, identities: [] });
  });

  test('instanceof holds for values made in the worker realm (documents, Buffers, library errors)', async () => {
    assert.deepEqual(EJSON.parse(bodyText(await pool.invoke(call('realms')))), [true, true, true, true, true, true, true, false, false, false]);
  });

  test('values are copied per call; shared objects and built-ins cannot be changed by one invocation', async () => {
    const mutated = EJSON.parse(bodyText(await pool.invoke(call('mutateValue')))) as Record<string, any>;
    assert.deepEqual(mutated, { limit: 5, tags: ['a', 'b'] });
    const attempt = EJSON.parse(bodyText(await pool.invoke(call('mutateShared')))) as Record<string, any>;
    assert.deepEqual(attempt.attempts, Array(9).fill('refused'));
    assert.equal(attempt.polluted, 'clean');
    // Every worker, every later invocation still sees the originals.
    const probes = await Promise.all([1, 2, 3, 4].map(() => pool.invoke(call('pollutionProbe'))));
    for (const p of probes) {
      assert.deepEqual(EJSON.parse(bodyText(p)), { obj: true, arr: 'function', env: 'prod-db', bson: 'function', buf: 'ok' });
    }
  });

  test('functions.execute: private callee, same worker, arguments by reference, nested calls, unknown name', async () => {
    const got = EJSON.parse(bodyText(await pool.invoke(call('caller', '[{"$numberInt":"7"}]')))) as Record<string, any>;
    assert.deepEqual(got, {
      sameObject: true,
      mutated: 'stored-by-callee',
      r2: 6,
      nested: ['done', true],
      notFound: "function not found: 'helpers/none'",
      arg: 7,
    });
  });

  test('console output is captured per invocation: last 25 lines, 512 bytes each', async () => {
    const result = await pool.invoke(call('logs'));
    assert.equal(result.error, undefined);
    assert.equal(result.logs.length, 25);
    assert.equal(result.logs[22], 'line 29');
    assert.equal(result.logs[23], 'x'.repeat(512));
    assert.equal(Buffer.byteLength(result.logs[24]), 512);
    assert.equal(result.logs[24], 'é'.repeat(256));
    const early = await pool.invoke(call('logs'));
    assert.deepEqual(early.logs, result.logs, 'no lines leak between invocations');
  });

  test('console lines in order, util.format-style', async () => {
    const fn = await startPool(
      makeApp({ f: `exports = () => { console.log('plain', 1, { a: [1, 2] }); console.info('info %s=%d', 'x', 5); console.warn('warn'); [7].forEach(console.log); process.stdout.write('via stdout\\n'); globalThis.console.log('global'); }` }),
      { workers: 1 },
    );
    try {
      const result = await fn.invoke(call('f'));
      assert.deepEqual(result.logs, ['plain 1 { a: [ 1, 2 ] }', 'info x=5', 'warn', '7 0 [ 7 ]', 'via stdout', 'global']);
    } finally {
      await fn.close();
    }
  });

  test('thrown errors become FunctionExecutionError with the message; logs are kept', async () => {
    const cases: Array<[string, string]> = [
      ['throws', 'something broke'],
      ['throwsAsync', 'async broke'],
      ['throwsValue', 'a plain string'],
      ['throwsObject', '[object Object]'],
    ];
    for (const [name, message] of cases) {
      const result = await pool.invoke(endpoint(name));
      assert.deepEqual(result.error, { code: 'FunctionExecutionError', message }, name);
    }
  });

  test('syntax errors, unknown functions and non-function exports', async () => {
    const syntax = await pool.invoke(endpoint('syntax'));
    assert.equal(syntax.error?.code, 'FunctionSyntaxError');
    assert.match(syntax.error?.message ?? '', /Unexpected token/);
    assert.deepEqual((await pool.invoke(endpoint('nope'))).error, { code: 'FunctionNotFound', message: "function not found: 'nope'" });
    assert.deepEqual((await pool.invoke(call('nope'))).error, { code: 'FunctionNotFound', message: "function not found: 'nope'" });
    const nf = await pool.invoke(endpoint('notAFunction'));
    assert.equal(nf.error?.code, 'FunctionExecutionError');
    assert.match(nf.error?.message ?? '', /does not export a function/);
  });

  test('module is undefined, exports assignment works, top-level require is available, use strict honoured', async () => {
    assert.deepEqual(bodyJSON(await pool.invoke(endpoint('moduleCheck'))), { module: 'undefined', topLevel: 'function', exportsType: 'function' });
    assert.equal(bodyJSON(await pool.invoke(endpoint('strict'))), true);
  });

  test('function invocation: EJSON arguments in, canonical EJSON out', async () => {
    const args = EJSON.stringify([2, 3, { when: new Date(5), id: { $oid: '5f1d7a3b9c8e4a0012345678' }, big: 2.5 }], { relaxed: false });
    const result = await pool.invoke(call('sum', args));
    assert.equal(result.status, 200);
    const parsed = EJSON.parse(bodyText(result), { relaxed: false }) as Record<string, unknown>;
    assert.equal(String(parsed.sum), '5');
    assert.equal(parsed.isDate, true);
    assert.equal(parsed.oid, '5f1d7a3b9c8e4a0012345678');
    assert.match(bodyText(result), /"big":\{"\$numberDouble":"2.5"\}/);
    const bad = await pool.invoke(call('sum', '{"not":"an array"}'));
    assert.equal(bad.error?.code, 'InvalidParameter');
    const undef = await pool.invoke(call('returnsUndefined'));
    assert.equal(undef.error, undefined);
    assert.equal(undef.body, null);
  });

  test('inline source runs instead of the named function', async () => {
    const result = await pool.invoke(call('inline', '["x"]', { source: 'exports = (a) => ({ inline: a, system: context.runningAsSystem() });' }));
    assert.deepEqual(EJSON.parse(bodyText(result)), { inline: 'x', system: true });
    const named = await pool.invoke(call('inline'));
    assert.equal(EJSON.parse(bodyText(named)), 'named');
  });

  test('an inline source that does not compile is a FunctionSyntaxError; a malformed invocation resolves with an error', async () => {
    const bad = await pool.invoke(call('label', '[]', { source: 'exports = (' }));
    assert.equal(bad.error?.code, 'FunctionSyntaxError');
    const malformed = await pool.invoke({ ...endpoint('echo'), request: undefined } as unknown as Parameters<FunctionPool['invoke']>[0]);
    assert.equal(malformed.error?.code, 'InternalServerError');
    assert.match(malformed.error?.message ?? '', /invalid invocation/);
    assert.equal(EJSON.parse(bodyText(await pool.invoke(call('inline')))), 'named', 'the pool still works');
  });

  test('context.request is present for function calls that carry a request', async () => {
    const fn = await startPool(makeApp({ f: 'exports = () => context.request' }), { workers: 1 });
    try {
      const withReq = EJSON.parse(bodyText(await fn.invoke(call('f', '[]', { request: request({ rawQuery: 'secret=1&x=2', headers: [['user-agent', 'ua']] }) })))) as Record<string, unknown>;
      assert.equal(withReq.rawQueryString, 'x=2');
      assert.equal(withReq.httpUserAgent, 'ua');
      assert.equal(withReq.webhookUrl, undefined);
      assert.deepEqual(EJSON.parse(bodyText(await fn.invoke(call('f')))), {});
    } finally {
      await fn.close();
    }
  });

  test('process is a stand-in: exit/kill/... refused, no server environment, no escape through constructors', async () => {
    const got = EJSON.parse(bodyText(await pool.invoke(call('processPolicy')))) as Record<string, any>;
    for (const name of ['exit', 'kill', 'abort', 'chdir', 'setuid', 'dlopen', 'binding', 'reallyExit']) {
      assert.equal(got[name], `process.${name}() is not supported in functions`, name);
    }
    assert.equal(got.env, 0);
    assert.equal(got.cwdIsString, true);
    assert.equal(got.hr, true);
    assert.equal(got.version, process.version);
    assert.equal(got.escape, 0, 'the sandbox Function reaches only the stand-in (pid 0)');
    assert.equal(got.hostFunctionCtor, 'EvalError');
    assert.equal(got.serverEnv, 'EvalError');
    assert.equal(bodyJSON(await pool.invoke(endpoint('exitThenWork'))), 'still here');
    assert.equal(pool.stats().restarts, 0);
  });

  test('require("child_process") is refused', async () => {
    const got = EJSON.parse(bodyText(await pool.invoke(call('childProcess'))));
    assert.match(String(got), /not supported in functions/);
  });
});
