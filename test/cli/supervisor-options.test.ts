// The node options the supervisor gives the server process: one V8 helper thread unless the user chose a size.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { serverNodeOptions } from '../../src/cli/supervisor';

test('one V8 helper thread by default, with the node options atrium was started with passed on', () => {
  assert.deepEqual(serverNodeOptions([], undefined), ['--v8-pool-size=1']);
  assert.deepEqual(serverNodeOptions(['--max-old-space-size=2048'], '--enable-source-maps'), ['--v8-pool-size=1', '--max-old-space-size=2048']);
});

test('a pool size given by the user, on the command line or in NODE_OPTIONS, is left alone', () => {
  assert.deepEqual(serverNodeOptions(['--v8-pool-size=4'], undefined), ['--v8-pool-size=4']);
  assert.deepEqual(serverNodeOptions([], '--enable-source-maps --v8-pool-size=8'), []);
});
