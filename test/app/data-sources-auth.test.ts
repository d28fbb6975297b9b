// Item 7 (data sources, rules, schemas, legacy services/mongodb-atlas) and item 8 (auth providers, custom user data).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadApp } from '../../src/app';
import { copyFixture, fixture, oneProblem, write } from './helpers';

const SECRETS = { querySecret: 'q', 'sign-key': 's', 'my-api-key': 'k', jwt_signing_key: 'j' };

test('data_sources/<dir>/config.json with default_rule.json and <db>/<coll> rules and schemas, kept raw', () => {
  const app = loadApp(fixture('realm-v2'), { secrets: SECRETS });
  assert.equal(app.dataSources.length, 1);
  const ds = app.dataSources[0];
  assert.ok(ds);
  assert.equal(ds.name, 'mongodb-atlas');
  assert.equal(ds.type, 'mongodb-atlas');
  assert.deepEqual(ds.config, { clusterName: 'DevCluster', readPreference: 'primary', wireProtocolEnabled: false });
  assert.equal(ds.definedIn, 'data_sources/mongodb-atlas/config.json');
  assert.deepEqual((ds.defaultRule as { roles: Array<{ name: string }> }).roles.map((r) => r.name), ['readAndWriteAll']);
  assert.deepEqual(Object.keys(ds.collections).sort(), ['shop/orders', 'shop/products']);
  const orders = ds.collections['shop/orders'];
  assert.equal(orders?.database, 'shop');
  assert.equal(orders?.collection, 'orders');
  assert.equal(orders?.rulesFile, 'data_sources/mongodb-atlas/shop/orders/rules.json');
  assert.equal(orders?.schemaFile, 'data_sources/mongodb-atlas/shop/orders/schema.json');
  assert.deepEqual((orders?.rules as { roles: Array<{ apply_when: unknown }> }).roles[0]?.apply_when, { owner_id: '%%user.id' });
  assert.deepEqual((orders?.schema as { required: string[] }).required, ['_id']);
  const products = ds.collections['shop/products'];
  assert.equal(products?.rules, undefined);
  assert.equal(products?.schemaFile, 'data_sources/mongodb-atlas/shop/products/schema.json');
});

test('the data source name is config.name (often not "mongodb-atlas"), else the folder name', () => {
  const dir = copyFixture('bare');
  write(dir, 'data_sources/atlas-folder/config.json', { name: 'Cluster0', type: 'mongodb-atlas', config: { clusterName: 'Cluster0' } });
  write(dir, 'data_sources/lake/config.json', { type: 'datalake', config: {} });
  const app = loadApp(dir);
  assert.deepEqual(app.dataSources.map((d) => [d.name, d.type]), [['Cluster0', 'mongodb-atlas'], ['lake', 'datalake']]);
});

test('bad JSON in one rules file is reported with its position; the rest keeps loading', () => {
  const app = loadApp(fixture('broken'));
  const p = oneProblem(app, { level: 'error', file: 'data_sources/mongodb-atlas/default_rule.json' });
  assert.match(p.message, /line 1, column 26/);
  const ds = app.dataSources[0];
  assert.equal(ds?.name, 'mongodb-atlas');
  assert.equal(ds?.defaultRule, undefined);
  assert.ok(ds?.collections['db1/coll1']?.rules);
});

test('legacy services/mongodb-atlas with rules/*.json (schema inside the rules file)', () => {
  const app = loadApp(fixture('stitch-legacy'));
  assert.deepEqual(app.dataSources.map((d) => d.name), ['mongodb-atlas']); // http and twilio services are not data sources
  const ds = app.dataSources[0];
  assert.equal(ds?.definedIn, 'services/mongodb-atlas/config.json');
  assert.deepEqual(ds?.config, { clusterName: 'Cluster0' });
  const items = ds?.collections['app/items'];
  assert.equal(items?.rulesFile, 'services/mongodb-atlas/rules/app.items.json');
  assert.deepEqual(items?.schema, { properties: { _id: { bsonType: 'objectId' } } });
});

test('auth/providers.json: object keyed by name, with config, secret_config, metadata_fields', () => {
  const app = loadApp(fixture('realm-v2'), { secrets: SECRETS });
  assert.deepEqual(Object.keys(app.authProviders).sort(), ['anon-user', 'api-key', 'custom-token', 'local-userpass']);
  assert.deepEqual(app.authProviders['local-userpass'], {
    name: 'local-userpass',
    type: 'local-userpass',
    disabled: false,
    config: { autoConfirm: true, resetPasswordUrl: 'https://example.com/reset', resetPasswordSubject: 'Reset' },
    secretConfig: {},
    metadataFields: [],
  });
  const jwt = app.authProviders['custom-token'];
  assert.deepEqual(jwt?.secretConfig, { signingKeys: ['jwt_signing_key'] });
  assert.deepEqual(jwt?.metadataFields, [{ required: false, name: 'email', field_name: 'email' }]);
  assert.equal(app.authProviders['anon-user']?.disabled, true);
});

test('legacy auth_providers/*.json', () => {
  const app = loadApp(fixture('stitch-legacy'));
  assert.deepEqual(Object.keys(app.authProviders).sort(), ['anon-user', 'api-key']);
  assert.equal(app.authProviders['api-key']?.type, 'api-key');
  assert.equal(app.authProviders['api-key']?.disabled, false);
});

test('auth/custom_user_data.json', () => {
  const app = loadApp(fixture('realm-v2'), { secrets: SECRETS });
  assert.deepEqual(app.customUserData, {
    enabled: true,
    mongoServiceName: 'mongodb-atlas',
    databaseName: 'shop',
    collectionName: 'users',
    userIdField: 'user_id',
    onUserCreationFunctionName: '',
  });
  assert.equal(loadApp(fixture('bare')).customUserData, null);
});

test('legacy custom_user_data_config in stitch.json resolves mongo_service_id to the service name', () => {
  const app = loadApp(fixture('stitch-legacy'));
  assert.deepEqual(app.customUserData, {
    enabled: true,
    mongoServiceName: 'mongodb-atlas',
    databaseName: 'app',
    collectionName: 'users',
    userIdField: 'uid',
    onUserCreationFunctionName: '',
  });
});

test('auth problems: bad providers.json is reported; functions named by auth settings must exist', () => {
  const broken = loadApp(fixture('broken'));
  oneProblem(broken, { level: 'error', file: 'auth/providers.json', says: ['invalid JSON'] });
  assert.deepEqual(broken.authProviders, {});

  const dir = copyFixture('bare');
  write(dir, 'auth/providers.json', { 'custom-function': { name: 'custom-function', type: 'custom-function', config: { authFunctionName: 'authFunc' } } });
  write(dir, 'auth/custom_user_data.json', { enabled: true, mongo_service_name: 'mongodb-atlas', database_name: 'd', collection_name: 'c', user_id_field: 'u', on_user_creation_function_name: 'onCreate' });
  const app = loadApp(dir);
  oneProblem(app, { level: 'error', file: 'auth/providers.json', field: 'custom-function.config.authFunctionName', says: ['"authFunc" not found'] });
  oneProblem(app, { level: 'error', file: 'auth/custom_user_data.json', field: 'on_user_creation_function_name', says: ['"onCreate" not found'] });
});
