import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { createFunctionRequire, transformEsmImports } from '../../src/runtime/modules';

let tmp: string;
let appDir: string;
let depsDir: string;
let req: (id: string) => any;

function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

before(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-modules-')));
  appDir = path.join(tmp, 'app');
  depsDir = path.join(tmp, 'deps');
  write(path.join(appDir, 'functions', 'hello.js'), 'exports = () => "hi";');
  write(path.join(appDir, 'data', 'note.txt'), 'inside the app');
  write(path.join(tmp, 'outside.txt'), 'secret outside');
  fs.symlinkSync(path.join(tmp, 'outside.txt'), path.join(appDir, 'data', 'link-out.txt'));
  // A hand-made node_modules: a CommonJS package with a subpath, a transpiled-ESM package, an ES module
  // with top-level await, and a package that is only in a PARENT node_modules (must not be reachable).
  const nm = path.join(depsDir, 'node_modules');
  write(path.join(nm, 'cjs-pkg', 'package.json'), '{"name":"cjs-pkg","version":"1.0.0","main":"index.js"}');
  write(path.join(nm, 'cjs-pkg', 'index.js'), 'module.exports = { answer: 42 };');
  write(path.join(nm, 'cjs-pkg', 'cloneDeep.js'), 'module.exports = (x) => JSON.parse(JSON.stringify(x));');
  write(path.join(nm, 'transpiled', 'package.json'), '{"name":"transpiled","version":"1.0.0"}');
  write(path.join(nm, 'transpiled', 'index.js'), 'Object.defineProperty(exports, "__esModule", {value: true}); exports.default = function get() { return "default export"; }; exports.named = 7;');
  write(path.join(nm, 'esm-tla', 'package.json'), '{"name":"esm-tla","version":"1.0.0","type":"module","exports":"./index.js"}');
  write(path.join(nm, 'esm-tla', 'index.js'), 'await Promise.resolve(); export default 1;');
  write(path.join(nm, 'esm-plain', 'package.json'), '{"name":"esm-plain","version":"1.0.0","type":"module","exports":"./index.js"}');
  write(path.join(nm, 'esm-plain', 'index.js'), 'export default function hi() { return "esm"; }\nexport const n = 3;');
  write(path.join(nm, 'exports-map', 'package.json'), '{"name":"exports-map","version":"1.0.0","exports":{".":"./main.js"}}');
  write(path.join(nm, 'exports-map', 'main.js'), 'module.exports = "main";');
  write(path.join(tmp, 'node_modules', 'parent-only', 'package.json'), '{"name":"parent-only","version":"1.0.0"}');
  write(path.join(tmp, 'node_modules', 'parent-only', 'index.js'), 'module.exports = "should not load";');
  req = createFunctionRequire({ appDir, dependenciesDir: depsDir });
});

after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('allowed built-ins load as x and node:x, as frozen views', () => {
  const crypto = req('crypto');
  assert.equal(crypto.createHash('sha256').update('hello!').digest('base64'), 'zgYJL7lI2f+sfRo3bkBLJrdXW8wR7gWkYV/vT+w6MIs=');
  assert.equal(req('node:crypto'), crypto, 'one view per module');
  assert.equal(req('path').join('a', 'b'), 'a/b');
  assert.equal(req('path').posix.join('a', 'b'), 'a/b');
  assert.equal(req('querystring').stringify({ a: 1 }), 'a=1');
  assert.equal(req('url').URL, URL);
  assert.ok(req('util').types.isDate(new Date()));
  assert.equal(req('buffer').Buffer, Buffer);
  assert.equal(typeof req('zlib').gzipSync, 'function');
  assert.equal(typeof req('os').platform(), 'string');
  assert.equal(req('os').setPriority, undefined, 'os.setPriority could slow the server down');
  assert.equal(typeof req('http').request, 'function');
  assert.equal(req('http').createServer, undefined, 'http is client-only');
  assert.equal(req('net').createServer, undefined);
  assert.equal(typeof req('tty').isatty, 'function');
  // Changing a view changes nothing for the next invocation (or the server).
  assert.ok(Object.isFrozen(crypto));
  assert.throws(() => {
    crypto.createHash = () => 'evil';
  }, TypeError);
  assert.throws(() => {
    req('path').posix.join = () => 'evil';
  }, TypeError);
  assert.equal(require('node:crypto').createHash('md5').update('').digest('hex'), 'd41d8cd98f00b204e9800998ecf8427e');
});

test('function-valued modules: assert callable, events/stream extendable', () => {
  const assertMod = req('assert');
  assert.throws(() => assertMod(false, 'boom'), /boom/);
  assertMod.strictEqual(1, 1);
  const EventEmitter = req('events');
  assert.equal(req('events').EventEmitter, EventEmitter);
  class Bus extends EventEmitter {}
  const bus = new Bus();
  let got = 0;
  bus.on('x', (n: number) => (got = n));
  bus.emit('x', 5);
  assert.equal(got, 5);
  assert.ok(bus instanceof require('node:events'));
  assert.throws(() => {
    EventEmitter.prototype.emit = () => false;
  }, TypeError);
  const { Readable } = req('stream');
  assert.equal(typeof Readable.from, 'function');
});

test('refused built-ins throw "<module> is not supported in functions"', () => {
  for (const name of ['child_process', 'cluster', 'worker_threads', 'vm', 'v8', 'inspector', 'repl', 'readline', 'domain', 'module', 'node:child_process', 'async_hooks', 'dgram']) {
    const bare = name.replace(/^node:/, '');
    assert.throws(() => req(name), new RegExp(`^ModuleNotAvailableError: ${bare} is not supported in functions$`), name);
  }
  assert.throws(() => req('node:not-a-module'), /not-a-module is not supported in functions/);
});

test('process: a stand-in (override wins when the sandbox gives one)', () => {
  const p = req('process');
  assert.deepEqual({ ...p.env }, {});
  assert.equal(p.cwd(), appDir);
  assert.throws(() => p.exit(0), /process.exit\(\) is not supported in functions/);
  assert.throws(() => p.kill(process.pid), /not supported/);
  const standIn = { env: { A: '1' } };
  const withOverride = createFunctionRequire({ appDir, dependenciesDir: null, moduleOverrides: { process: standIn } });
  assert.equal(withOverride('process'), standIn);
  assert.equal(withOverride('node:process'), standIn);
});

test('fs: read-only, confined to the app dir and the dependencies, symlinks and .. refused', () => {
  const fsv = req('fs');
  assert.equal(fsv.readFileSync(path.join(appDir, 'data', 'note.txt'), 'utf8'), 'inside the app');
  assert.equal(fsv.readFileSync('data/note.txt', 'utf8'), 'inside the app', 'relative to the app dir');
  assert.equal(fsv.existsSync('functions/hello.js'), true);
  assert.equal(fsv.existsSync('functions/missing.js'), false);
  assert.ok(fsv.statSync('data').isDirectory());
  assert.ok(fsv.lstatSync('data/note.txt').isFile());
  fsv.accessSync('data/note.txt', fsv.constants.R_OK);
  assert.equal(fsv.readFileSync(path.join(depsDir, 'node_modules', 'cjs-pkg', 'index.js'), 'utf8'), 'module.exports = { answer: 42 };');
  assert.throws(() => fsv.readFileSync('../outside.txt', 'utf8'), /access to "..\/outside.txt" is not allowed/);
  assert.throws(() => fsv.readFileSync(path.join(tmp, 'outside.txt')), /not allowed/);
  assert.throws(() => fsv.readFileSync('data/link-out.txt', 'utf8'), /not allowed/, 'a symlink pointing outside');
  assert.throws(() => fsv.existsSync('/etc/passwd'), /not allowed/);
  assert.throws(() => fsv.existsSync('data/../../outside.txt'), /not allowed/);
  assert.throws(() => fsv.writeFileSync('data/new.txt', 'x'), /fs.writeFileSync is not supported in functions: fs is read-only/);
  assert.throws(() => fsv.unlinkSync('data/note.txt'), /read-only/);
  assert.throws(() => fsv.accessSync('data/note.txt', fsv.constants.W_OK), /no write access/);
  assert.throws(() => fsv.readFileSync(0), /file descriptors are not supported/);
  assert.equal(fs.readFileSync(path.join(appDir, 'data', 'note.txt'), 'utf8'), 'inside the app', 'nothing was changed');
});

test('fs/promises view is confined too', async () => {
  const p = req('fs/promises');
  assert.equal(await p.readFile('data/note.txt', 'utf8'), 'inside the app');
  await assert.rejects(p.readFile('../outside.txt'), /not allowed/);
  assert.equal(req('fs').promises, p);
});

test('npm packages resolve from <deps>/node_modules only, subpaths included', () => {
  assert.deepEqual(req('cjs-pkg'), { answer: 42 });
  assert.deepEqual(req('cjs-pkg/cloneDeep')({ a: [1] }), { a: [1] });
  assert.equal(req('transpiled').default(), 'default export');
  assert.equal(req('exports-map'), 'main');
  assert.equal(req('esm-plain').default(), 'esm', 'require(esm) works on Node 20.19+');
  assert.throws(() => req('parent-only'), /npm package 'parent-only' is not installed for this app\. Add it to "dependencies" in functions\/package\.json/);
  assert.throws(() => req('lodash/cloneDeep'), /npm package 'lodash' is not installed/);
  assert.throws(() => req('bson'), /npm package 'bson' is not installed/, "Atrium's own dependencies are not reachable");
  assert.throws(() => req('@octokit/request'), /npm package '@octokit\/request' is not installed/);
  assert.throws(() => req('esm-tla'), /ES module that uses top-level await/);
  assert.throws(() => req('./helper'), /functions cannot require files/);
  assert.throws(() => req('/etc/passwd'), /functions cannot require files/);
  assert.throws(() => req(''), /expects a module name/);
  const noDeps = createFunctionRequire({ appDir, dependenciesDir: null });
  assert.throws(() => noDeps('cjs-pkg'), /npm package 'cjs-pkg' is not installed/);
});

test('transformEsmImports rewrites simple imports and export default, keeping line numbers', () => {
  assert.equal(transformEsmImports('exports = function () { return 1; };'), null);
  const src = [
    'import axios from "axios";',
    "import * as path from 'path';",
    'import { createHash, randomBytes as rb } from "crypto";',
    'import def, { named } from "transpiled";',
    'import {',
    '  join,',
    '  basename as bn',
    '} from "path";',
    'import "cjs-pkg";',
    'export default async function handler(req) { return join("a", "b") + bn("/x/y") + typeof axios + typeof createHash + typeof rb + def() + named + typeof path.sep + helper(); }',
    'export function helper() { return "!"; }',
  ].join('\n');
  const out = transformEsmImports(src)!;
  assert.notEqual(out, null);
  assert.equal(out.split('\n').length, src.split('\n').length, 'same number of lines');
  assert.match(out.split('\n')[9]!, /^exports = async function handler/);
  // Run it the way the sandbox does: a function body with `exports` and `require`.
  const fakeRequire = (id: string): unknown => (id === 'axios' ? { default: () => 'axios', __esModule: true } : req(id));
  const factory = vm.runInNewContext(`(function (require) { var exports; ${out}\n; return exports; })`, { Object });
  const handler = factory(fakeRequire);
  return handler().then((v: string) => assert.equal(v, 'a/byfunctionfunctionfunctiondefault export7string!'));
});

test('transformEsmImports leaves unknown shapes alone', () => {
  const src = 'const s = "import x from y";\nimport(\'x\');\nexports = 1;';
  assert.equal(transformEsmImports(src), null);
});
