// Custom user data (§9.6) through the real server and the real data layer: fetch_custom_user_data puts the document
// in context.user.custom_data, access tokens carry it as user_data (realm-web's user.customData), a refresh re-reads
// it, and the on-user-creation function runs (in the pool) when a user is created.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { decodeJwt } from 'jose';
import * as Realm from 'realm-web';
import { loadApp } from '../../src/app';
import { createServiceClient } from '../../src/data';
import { REPO_ROOT, startAtrium } from '../helpers/server';
import type { RunningServer } from '../helpers/server';

const APP_DIR = path.join(REPO_ROOT, 'test', 'auth', 'app-fixture');
let srv: RunningServer;

interface Profiles {
  findOne(q: unknown): Promise<Record<string, unknown> | null>;
  updateOne(q: unknown, u: unknown, o?: unknown): Promise<unknown>;
}

/** The app's custom user data collection, opened from this test process on the server's data dir. */
function profiles(): Profiles {
  const client = createServiceClient({ app: loadApp(APP_DIR), serviceName: 'mongodb-atlas', dataDir: srv.dataDir, identity: { user: null, runAsSystem: true } });
  return client!.db('app').collection('profiles') as unknown as Profiles;
}

before(async () => {
  srv = await startAtrium(APP_DIR, { env: { ATRIUM_SECRET_JWTSIGNINGKEY: 'k'.repeat(40) }, args: ['--workers', '1', '--log-format', 'none'] });
});

after(async () => {
  await srv?.stop();
});

async function getJson(route: string, token: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${srv.endpointBase}${route}`, { headers: { Authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

test('custom user data: fetched for endpoints that ask, carried in tokens, re-read on refresh', async () => {
  const app = new Realm.App({ id: srv.appId, baseUrl: srv.url });
  await app.emailPasswordAuth.registerUser({ email: 'cud@example.com', password: 'cud-pass-1' });
  const first = await app.logIn(Realm.Credentials.emailPassword('cud@example.com', 'cud-pass-1'));
  await profiles().updateOne({ userId: first.id }, { $set: { userId: first.id, plan: 'free' } }, { upsert: true });
  await first.logOut();

  const user = await app.logIn(Realm.Credentials.emailPassword('cud@example.com', 'cud-pass-1'));
  try {
    const claims = decodeJwt(user.accessToken!) as { user_data?: { plan?: string; userId?: string } };
    assert.equal(claims.user_data?.plan, 'free');
    assert.equal(claims.user_data?.userId, user.id);
    assert.equal((user.customData as { plan?: string }).plan, 'free');

    const fetched = await getJson('/custom-data', user.accessToken!);
    assert.equal(fetched.status, 200, JSON.stringify(fetched.body));
    assert.equal(fetched.body.custom_data.plan, 'free');
    assert.deepEqual((await getJson('/no-custom-data', user.accessToken!)).body.custom_data, {});

    await profiles().updateOne({ userId: user.id }, { $set: { plan: 'pro' } });
    assert.equal((await getJson('/custom-data', user.accessToken!)).body.custom_data.plan, 'pro', 'endpoints read it per request');
    assert.equal((user.customData as { plan?: string }).plan, 'free', 'the token keeps what it was minted with');
    const refreshed = (await user.refreshCustomData()) as { plan?: string };
    assert.equal(refreshed.plan, 'pro');
  } finally {
    await user.logOut();
  }
});

test('the on-user-creation function runs in the pool when a user is created and can write the custom data', async () => {
  const app = new Realm.App({ id: srv.appId, baseUrl: srv.url });
  const user = await app.logIn(Realm.Credentials.anonymous(false));
  try {
    const doc = await profiles().findOne({ userId: user.id });
    assert.ok(doc, 'onUserCreated inserted the profile');
    assert.deepEqual(doc.providers, ['anon-user']);
    assert.equal((user.customData as { plan?: string }).plan, 'free');
    // A system function called by the user (context.user is the caller) updates it; a refresh shows the change.
    assert.equal(await user.functions.setPlan('team'), 'team');
    assert.equal(((await user.refreshCustomData()) as { plan?: string }).plan, 'team');
  } finally {
    await user.logOut();
  }
});
