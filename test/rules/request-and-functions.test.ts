// The runtime hands the rules layer what App Services gives rules: %%request (the invocation's context.request)
// and %function (an app function run as system in the same worker). And a denied operation's rule detail reaches
// the request's log record, while the client keeps App Services' message. Real server, application users.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EJSON } from 'bson';
import { FIXTURES, startAtrium } from '../helpers/server';
import type { RunningServer } from '../helpers/server';

const APP_DIR = path.join(FIXTURES, 'rules-app');
let srv: RunningServer;
const tokens: Record<string, string> = {};

interface Reply {
  status: number;
  body: any;
}

async function postJSON(url: string, body: string, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'application/json', ...headers }, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  return { status: res.status, body: text ? EJSON.parse(text, { relaxed: true }) : null };
}

/** One collection operation through /op (as `who`) or /sysop (who null), with extra request headers. */
async function op(who: string | null, coll: string, method: string, args: unknown[], headers: Record<string, string> = {}, extra: Record<string, unknown> = {}): Promise<Reply> {
  const auth: Record<string, string> = who === null ? {} : { Authorization: `Bearer ${tokens[who]}` };
  return postJSON(`${srv.endpointBase}${who === null ? '/sysop' : '/op'}`, EJSON.stringify({ coll, method, args, ...extra }), { ...auth, ...headers });
}

before(async () => {
  srv = await startAtrium(APP_DIR, { args: ['--workers', '1', '--log-format', 'none'] });
  const client = `${srv.url}/api/client/v2.0/app/${srv.appId}/auth/providers/local-userpass`;
  for (const name of ['alice', 'bob']) {
    const email = `${name}@example.com`;
    assert.equal((await postJSON(`${client}/register`, JSON.stringify({ email, password: `${name}-password-1` }))).status, 201);
    const login = await postJSON(`${client}/login`, JSON.stringify({ username: email, password: `${name}-password-1` }));
    assert.equal(login.status, 200);
    tokens[name] = login.body.access_token;
  }
  for (const [coll, docs] of [
    ['teams', [{ name: 'blue board' }]],
    ['vault', [{ secret: 'gold' }]],
    ['keyholders', [{ email: 'alice@example.com' }]],
  ] as const) {
    const seeded = await op(null, coll, 'insertMany', [docs]);
    assert.equal(seeded.body.ok, true, seeded.body.message);
  }
});

after(async () => {
  await srv?.stop();
  if (srv) fs.rmSync(srv.dataDir, { recursive: true, force: true });
});

describe('%%request and %function in rules, for application users', () => {
  test('a role whose apply_when reads %%request.requestHeaders.X-Team applies only with that header', async () => {
    const blue = await op('alice', 'teams', 'find', [{}], { 'X-Team': 'blue' });
    assert.equal(blue.body.ok, true, blue.body.message);
    assert.equal(blue.body.system, false);
    assert.deepEqual(blue.body.result.map((d: { name: string }) => d.name), ['blue board']);
    assert.deepEqual((await op('alice', 'teams', 'find', [{}], { 'X-Team': 'red' })).body.result, []);
    assert.deepEqual((await op('alice', 'teams', 'find', [{}])).body.result, []);
    const write = await op('bob', 'teams', 'insertOne', [{ name: 'from bob' }], { 'x-team': 'blue' });
    assert.equal(write.body.ok, true, write.body.message);
    const refused = await op('bob', 'teams', 'insertOne', [{ name: 'no header' }]);
    assert.deepEqual([refused.body.ok, refused.body.message], [false, 'insert not permitted']);
  });

  test('a %function apply_when runs the app function as system (it reads a collection users cannot)', async () => {
    // Users cannot read keyholders themselves.
    assert.deepEqual((await op('alice', 'keyholders', 'find', [{}])).body.result, []);
    const alice = await op('alice', 'vault', 'find', [{}]);
    assert.equal(alice.body.ok, true, alice.body.message);
    assert.deepEqual(alice.body.result.map((d: { secret: string }) => d.secret), ['gold']);
    assert.deepEqual((await op('bob', 'vault', 'find', [{}])).body.result, []);
    const denied = await op('bob', 'vault', 'insertOne', [{ secret: 'lead' }]);
    assert.deepEqual([denied.body.ok, denied.body.message], [false, 'insert not permitted']);
  });

  test('a denied write thrown out of the function: App Services\' message to the client, the rule in the log record', async () => {
    const res = await op('bob', 'vault', 'insertOne', [{ secret: 'lead' }], {}, { rethrow: true });
    assert.equal(res.status >= 400, true, `status ${res.status}`);
    assert.equal(res.body.error, 'insert not permitted');
    assert.doesNotMatch(res.body.error, /rule:|rules\.json/);
    assert.equal(typeof res.body.link, 'string');
    const linked = await fetch(res.body.link, { signal: AbortSignal.timeout(10_000) });
    assert.equal(linked.status, 200);
    const record = (await linked.json()) as { logs?: string[] };
    const ruleLines = (record.logs ?? []).filter((l) => l.startsWith('rule: '));
    assert.equal(ruleLines.length, 1, JSON.stringify(record));
    assert.match(ruleLines[0], /vault/);
  });

  test('an error that is not a rule decision adds no rule line', async () => {
    const res = await op('alice', 'vault', 'noSuchMethod', [], {}, { rethrow: true });
    assert.equal(res.status >= 400, true);
    const record = (await (await fetch(res.body.link, { signal: AbortSignal.timeout(10_000) })).json()) as { logs?: string[] };
    assert.equal((record.logs ?? []).some((l) => l.startsWith('rule: ')), false);
  });
});
