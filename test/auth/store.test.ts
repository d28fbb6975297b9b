// The embedded platform store: shared by several handles on one file (as several instances would), unique keys,
// cascading deletes, and the one-use tokens.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { DuplicateKeyError } from '../../src/platform/store';
import type { UserRecord } from '../../src/platform/store';
import { SqlitePlatformStore } from '../../src/platform/store-sqlite';
import { tempDir } from './fixtures';

const user = (id: string): UserRecord => ({ id, type: 'normal', data: { n: id }, disabled: false, createdAt: Date.now(), lastLoginAt: null });

test('two handles on one file agree on generated secrets and see each other\'s writes', async () => {
  const file = path.join(tempDir(), 'platform.sqlite');
  const a = new SqlitePlatformStore(file);
  const b = new SqlitePlatformStore(file);
  try {
    const [x, y] = await Promise.all([a.getOrCreateSecret('k', () => Buffer.from('from-a')), b.getOrCreateSecret('k', () => Buffer.from('from-b'))]);
    assert.deepEqual(x, y);
    assert.deepEqual(await b.getOrCreateSecret('k', () => Buffer.from('again')), x);
    await a.createUser(user('5f0000000000000000000001'), [{ userId: '5f0000000000000000000001', providerName: 'p', providerType: 'p', externalId: 'e1', data: {} }]);
    assert.equal((await b.getUser('5f0000000000000000000001'))?.data.n, '5f0000000000000000000001');
    assert.equal((await b.findIdentity('p', 'e1'))?.userId, '5f0000000000000000000001');
  } finally {
    await a.close();
    await b.close();
  }
});

test('unique identities and API key names; deleting a user removes what hangs on it', async () => {
  const s = new SqlitePlatformStore(path.join(tempDir(), 'platform.sqlite'));
  try {
    const id = '5f0000000000000000000002';
    await s.createUser(user(id), [{ userId: id, providerName: 'p', providerType: 'p', externalId: 'e2', data: {} }]);
    await assert.rejects(s.createUser(user('5f0000000000000000000003'), [{ userId: 'x', providerName: 'p', providerType: 'p', externalId: 'e2', data: {} }]), DuplicateKeyError);
    assert.equal(await s.getUser('5f0000000000000000000003'), null, 'the failed creation left no user behind');
    await s.createApiKey({ id: 'k1', name: 'laptop', kind: 'user', userId: id, disabled: false, createdAt: 1 }, 'h1');
    await assert.rejects(s.createApiKey({ id: 'k2', name: 'laptop', kind: 'user', userId: id, disabled: false, createdAt: 2 }, 'h2'), DuplicateKeyError);
    // Another user may use the same name.
    await s.createApiKey({ id: 'k3', name: 'laptop', kind: 'user', userId: 'other', disabled: false, createdAt: 3 }, 'h3');
    await s.createSession({ id: 's1', userId: id, providerName: 'p', providerType: 'p', identityId: 'e2', deviceId: 'd', createdAt: 1, expiresAt: Date.now() + 1000 });
    assert.equal(await s.deleteUser(id), true);
    assert.equal(await s.findIdentity('p', 'e2'), null);
    assert.equal(await s.getApiKey('k1'), null);
    assert.equal(await s.getSession('s1'), null);
    assert.equal((await s.getApiKey('k3'))?.name, 'laptop');
  } finally {
    await s.close();
  }
});

test('tokens are taken once; failures are counted inside a window and cleared', async () => {
  const s = new SqlitePlatformStore(path.join(tempDir(), 'platform.sqlite'));
  try {
    await s.putToken({ id: 't1', emailKey: 'a@b.c', kind: 'confirm', tokenHash: 'h', expiresAt: Date.now() + 10_000 });
    assert.equal((await s.takeToken('t1'))?.emailKey, 'a@b.c');
    assert.equal(await s.takeToken('t1'), null);
    await s.recordFailure('ip:1', 1000);
    await s.recordFailure('ip:1', 2000);
    await s.recordFailure('ip:1', 3000);
    assert.deepEqual(await s.countFailures('ip:1', 1500), { count: 2, oldest: 2000 });
    await s.clearFailures('ip:1');
    assert.deepEqual(await s.countFailures('ip:1', 0), { count: 0, oldest: null });
  } finally {
    await s.close();
  }
});
