// `atrium serve --no-freeze-intrinsics` through the real server: the worker's own realm (where npm packages run)
// stays writable with the flag and is frozen without it; the functions' realm is frozen either way. Also the
// override-mistake behaviour functions see: common methods can be overridden on instances, `then`/`exec`/`next`
// (kept as plain data properties for V8's fast paths) cannot.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startAtrium, tempDir } from '../helpers/server';
import type { RunningServer } from '../helpers/server';

const PROBE = `exports = function () {
  // Buffer comes from the worker's realm: its prototype chain reaches that realm's %TypedArray%.prototype.
  const hostTypedArrayProto = Object.getPrototypeOf(Object.getPrototypeOf(Buffer.prototype));
  const instance = {};
  instance.toString = () => 'mine';
  const list = [1];
  list.push = () => 'pushed';
  const tries = {};
  for (const [name, target] of [['then', Promise.resolve(1)], ['exec', /a/], ['next', [][Symbol.iterator]()]]) {
    try {
      target[name] = () => 0;
      tries[name] = Object.prototype.hasOwnProperty.call(target, name) ? 'own' : 'ignored';
    } catch (e) {
      tries[name] = e.constructor.name;
    }
  }
  return {
    workerRealmFrozen: Object.isFrozen(hostTypedArrayProto),
    functionRealmFrozen: Object.isFrozen(Array.prototype) && Object.isFrozen(Object.prototype),
    toStringOverride: String(instance),
    pushOverride: list.push(2),
    tries,
  };
};
`;

function writeApp(): string {
  const dir = tempDir('atrium-freeze-app-');
  fs.mkdirSync(path.join(dir, 'functions'));
  fs.mkdirSync(path.join(dir, 'http_endpoints'));
  fs.writeFileSync(path.join(dir, 'realm_config.json'), JSON.stringify({ config_version: 20210101, app_id: 'freeze-app', name: 'freeze-app' }));
  fs.writeFileSync(path.join(dir, 'functions', 'probe.js'), PROBE);
  fs.writeFileSync(path.join(dir, 'functions', 'config.json'), JSON.stringify([{ name: 'probe', private: false, run_as_system: true }]));
  fs.writeFileSync(
    path.join(dir, 'http_endpoints', 'config.json'),
    JSON.stringify([{ route: '/probe', http_method: 'GET', function_name: 'probe', validation_method: 'NO_VALIDATION', respond_result: true, disabled: false, return_type: 'JSON' }]),
  );
  return dir;
}

interface Probe {
  workerRealmFrozen: boolean;
  functionRealmFrozen: boolean;
  toStringOverride: string;
  pushOverride: string;
  tries: Record<string, string>;
}

async function probe(srv: RunningServer): Promise<Probe> {
  const res = await fetch(`${srv.endpointBase}/probe`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text) as Probe;
}

describe('serve --no-freeze-intrinsics', () => {
  let appDir: string;
  const servers: RunningServer[] = [];
  before(() => {
    appDir = writeApp();
  });
  after(async () => {
    for (const s of servers) await s.stop();
    fs.rmSync(appDir, { recursive: true, force: true });
  });

  test('by default both realms are frozen; instances can still override common methods, not then/exec/next', async () => {
    const srv = await startAtrium(appDir, { args: ['--workers', '1'] });
    servers.push(srv);
    const p = await probe(srv);
    assert.equal(p.workerRealmFrozen, true);
    assert.equal(p.functionRealmFrozen, true);
    assert.equal(p.toStringOverride, 'mine');
    assert.equal(p.pushOverride, 'pushed');
    // Function files are sloppy mode unless they say "use strict": a failed assignment is silently ignored.
    assert.deepEqual(p.tries, { then: 'ignored', exec: 'ignored', next: 'ignored' });
  });

  test('with the flag the worker realm stays writable and the functions realm is still frozen', async () => {
    const srv = await startAtrium(appDir, { args: ['--workers', '1', '--no-freeze-intrinsics'] });
    servers.push(srv);
    const p = await probe(srv);
    assert.equal(p.workerRealmFrozen, false);
    assert.equal(p.functionRealmFrozen, true);
  });
});
