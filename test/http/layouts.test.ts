// The real server on fixture apps in each export layout: App Services CLI (root_config.json + .mdb/meta.json +
// https_endpoints/) and legacy Stitch (stitch.json + services/<svc>/incoming_webhooks/).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { FIXTURES, startAtrium } from '../helpers/server';

test('App Services CLI layout: app id from .mdb/meta.json, https_endpoints, specific method and *', async () => {
  const srv = await startAtrium(path.join(FIXTURES, 'cli-2023'));
  try {
    assert.equal(srv.appId, 'cliapp-qwert');
    const list = await fetch(`${srv.endpointBase}/items`);
    assert.equal(list.status, 200);
    assert.deepEqual(await list.json(), [{ id: 1 }, { id: 2 }]);
    const post = await fetch(`${srv.endpointBase}/items`, { method: 'POST', body: '{}' });
    assert.equal(post.status, 200);
    assert.equal(await post.text(), 'POST');
    assert.match(srv.stderr(), /graphql\/.*not supported/);
    assert.match(srv.stderr(), /hosting\/.*not supported/);
  } finally {
    await srv.stop();
  }
});

test('Stitch layout: legacy incoming webhooks at /<svc>/<name> and at their old URL', async () => {
  const srv = await startAtrium(path.join(FIXTURES, 'stitch-legacy'));
  try {
    assert.equal(srv.appId, 'stitchapp-lmnop');
    const r = await fetch(`${srv.endpointBase}/myhttp/getter?q=abc`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { got: 'abc' });
    const old = await fetch(`${srv.url}/api/client/v2.0/app/${srv.appId}/service/myhttp/incoming_webhook/getter?q=old`);
    assert.equal(old.status, 200);
    assert.deepEqual(await old.json(), { got: 'old' });
  } finally {
    await srv.stop();
  }
});
