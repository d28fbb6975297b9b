// Compiling rules files: which rules govern a collection, legacy forms, problems with file and field, and the
// load-time analysis that lets document-free expressions be evaluated once.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { compileExpression } from '../../src/data/rules/compiled-expression';
import { evaluateExpressionSync } from '../../src/data/rules/expression';
import { compileDataSourceRules } from '../../src/data/rules/compile-rules';
import type { RuleProblem } from '../../src/data/rules/rule-types';
import { checkAppRules, compileAppRules } from '../../src/data/rules';
import { appWithRules } from './helpers';

function compile(spec: Parameters<typeof appWithRules>[0]): { rules: ReturnType<typeof compileDataSourceRules>; problems: RuleProblem[] } {
  const problems: RuleProblem[] = [];
  const rules = compileDataSourceRules(appWithRules(spec).dataSources[0], problems);
  return { rules, problems };
}

describe('compiled expressions', () => {
  test('constants are folded', () => {
    assert.equal(compileExpression({}, 'x').constant, true);
    assert.equal(compileExpression(true, 'x').constant, true);
    assert.equal(compileExpression(false, 'x').constant, false);
    assert.equal(compileExpression({ '%%true': true }, 'x').constant, undefined);
  });

  test('document dependence is found wherever the document is referred to', () => {
    const perDoc = [
      { owner_id: '%%user.id' },
      { '%%root.owner_id': '%%user.id' },
      { '%%user.id': '%%root.owner' },
      { '%%user.id': { $in: '%%root.members' } },
      { '%or': [{ '%%user.data.admin': true }, { owner: '%%user.id' }] },
      { '%%true': { '%function': { name: 'f', arguments: ['%%root'] } } },
      { '%%this': { $gt: 0 } },
      { '%%prevRoot': { '%exists': false } },
      { '%%true': { owner: '%%user.id' } },
      { '%%user.custom_data': { role: 'admin' } },
    ];
    for (const e of perDoc) assert.equal(compileExpression(e, 'x').perDocument, true, JSON.stringify(e));
    const once = [
      { '%%user.data.admin': true },
      { '%%user.id': { $in: '%%values.adminIds' } },
      { '%%request.remoteIPAddress': { '%in': ['1.2.3.4'] } },
      { '%or': [{ '%%user.type': 'server' }, { '%%environment.tag': 'production' }] },
      { '%%true': { '%function': { name: 'f', arguments: ['%%user.id'] } } },
    ];
    for (const e of once) assert.equal(compileExpression(e, 'x').perDocument, false, JSON.stringify(e));
    assert.equal(compileExpression({ '%%true': { '%function': { name: 'f' } } }, 'x').async, true);
    assert.equal(compileExpression({ a: 1 }, 'x').async, false);
  });
});

describe('fast path for field comparisons', () => {
  test('gives exactly the evaluator\'s answer', () => {
    const user = { id: 'u1', type: 'normal', data: { email: 'a@b.c', team: 'x' }, custom_data: { groups: ['g1', 'g2'], org: { id: 7 } }, identities: [] };
    const expressions = [
      { owner_id: '%%user.id' },
      { owner_id: '%%user.id', kind: 'note' },
      { 'meta.owner': '%%user.id' },
      { team: '%%user.data.team' },
      { group: '%%user.custom_data.groups' },
      { orgId: '%%user.custom_data.org.id' },
      { members: '%%user.id' },
      { missing: '%%user.data.nothing' },
      { public: true },
      { n: 3 },
    ];
    const docs = [
      { owner_id: 'u1', kind: 'note', meta: { owner: 'u1' }, team: 'x', group: 'g2', orgId: 7, members: ['u2', 'u1'], public: true, n: 3 },
      { owner_id: 'u2', kind: 'note', meta: { owner: 'u2' }, team: 'y', group: ['g1'], orgId: '7', members: [], public: false, n: 3.0, missing: null },
      {},
    ];
    for (const e of expressions) {
      const c = compileExpression(e, 'x');
      assert.ok(c.fast, JSON.stringify(e));
      for (const doc of docs) assert.equal(c.fast!(doc, user), evaluateExpressionSync(e, { user, root: doc }), `${JSON.stringify(e)} on ${JSON.stringify(doc)}`);
    }
    for (const e of [{ '%%user.id': 'x' }, { a: { $in: [1] } }, { a: '%%root.b' }, { a: '%%user.identities.providerType' }, { a: null }, { a: { b: 1 } }]) {
      assert.equal(compileExpression(e, 'x').fast, undefined, JSON.stringify(e));
    }
  });
});

describe('rules files', () => {
  test('collection roles replace the default rule; other collections use it', () => {
    const { rules } = compile({
      defaultRule: { roles: [{ name: 'def', apply_when: {}, read: true }], filters: [] },
      collections: {
        'db/a': { rules: { roles: [{ name: 'own', apply_when: { owner: '%%user.id' } }] } },
        'db/b': { schema: { properties: {} } },
        'db/c': { rules: { roles: [], filters: [{ name: 'f', apply_when: {}, query: { x: 1 } }] } },
      },
    });
    assert.deepEqual(rules.collections.get('db/a')?.rules?.roles.map((r) => r.name), ['own']);
    assert.equal(rules.collections.get('db/b')?.rules, undefined, 'only a schema: the default rule governs');
    assert.ok(rules.collections.get('db/b')?.schema);
    assert.deepEqual(rules.collections.get('db/c')?.rules?.roles.map((r) => r.name), ['def'], 'no roles: the default roles');
    assert.deepEqual(rules.collections.get('db/c')?.rules?.filters.map((f) => f.name), ['f']);
    assert.deepEqual(rules.defaultRule?.roles.map((r) => r.name), ['def']);
  });

  test('role defaults: insert/delete/search true, read/write and field rules absent', () => {
    const { rules } = compile({ collections: { 'db/a': { rules: { roles: [{ name: 'r', apply_when: {} }] } } } });
    const role = rules.collections.get('db/a')!.rules!.roles[0];
    assert.deepEqual([role.insert.constant, role.delete.constant, role.search.constant], [true, true, true]);
    assert.equal(role.read, undefined);
    assert.equal(role.write, undefined);
    assert.equal(role.fields.size, 0);
    assert.equal(role.perDocument, false);
    assert.match(role.where, /data_sources\/mongodb-atlas\/db\/a\/rules\.json roles\[0\] \("r"\)/);
  });

  test('legacy forms: Stitch rules with id and schema; the old single-rule form', () => {
    const { rules, problems } = compile({
      collections: {
        'app/items': { rules: { id: '5c1f', database: 'app', collection: 'items', roles: [{ name: 'default', apply_when: {}, read: true, write: true }], filters: [], schema: { properties: { _id: { bsonType: 'objectId' } } } } },
        'app/old': { rules: { read: { owner: '%%user.id' }, write: { owner: '%%user.id' }, other_fields: {} } },
      },
    });
    assert.ok(rules.collections.get('app/items')?.schema, 'schema inside the legacy rules file');
    const old = rules.collections.get('app/old')!.rules!.roles[0];
    assert.equal(old.name, 'legacy');
    assert.equal(old.read?.perDocument, true);
    assert.ok(problems.some((p) => p.level === 'warning' && /single-rule form/.test(p.message)));
  });

  test('mistakes are reported with file and field, and never grant access', () => {
    const { rules, problems } = compile({
      collections: {
        'db/a': {
          rules: {
            roles: ['nope', { name: 'ok', apply_when: 'yes', read: 1, fields: { f: 'x' }, bogus: true }],
            filters: [{ name: 'byDoc', apply_when: { owner: '%%user.id' }, query: {} }, { name: 'badQuery', apply_when: {}, query: 'x' }],
          },
          schema: { bsonType: 'object', properties: { a: { bsonType: 'strin' }, b: { minLength: -1 } } },
        },
      },
    });
    const find = (field: string): RuleProblem | undefined => problems.find((p) => p.field === field);
    assert.equal(find('roles[0]')?.file, 'data_sources/mongodb-atlas/db/a/rules.json');
    assert.ok(find('roles[1].apply_when'));
    assert.ok(find('roles[1].read'));
    assert.ok(find('roles[1].fields.f'));
    assert.equal(find('roles[1].bogus')?.level, 'warning');
    assert.match(find('filters[0].apply_when')?.message ?? '', /cannot refer to the document/);
    assert.ok(find('filters[1].query'));
    assert.equal(find('properties.a.bsonType')?.file, 'data_sources/mongodb-atlas/db/a/schema.json');
    assert.ok(find('properties.b.minLength'));
    const roles = rules.collections.get('db/a')!.rules!.roles;
    assert.deepEqual(roles.map((r) => r.name), ['ok']);
    assert.equal(roles[0].applyWhen.constant, false, 'a malformed apply_when never applies');
    assert.equal(roles[0].read?.constant, false);
    assert.equal(rules.collections.get('db/a')!.rules!.filters.length, 0);
  });

  test('checkAppRules lints expressions for unknown operators, expansions and functions', () => {
    const app = appWithRules({
      defaultRule: { roles: [{ name: 'd', apply_when: { '%%user.id': { $regex: 'x' } }, read: { '%%usr.id': 'x' }, write: { '%%true': { '%function': { name: 'missing' } } } }] },
      collections: { 'db/a': { schema: { properties: { n: { validate: { '%%this': { $gte: 0, '%foo': 1 } } } } } } },
    });
    const { problems, counted } = checkAppRules(app);
    const messages = problems.map((p) => `${p.file} ${p.field}: ${p.message}`);
    assert.ok(messages.some((m) => /default_rule\.json roles\[0\]\.apply_when\.%%user\.id: unknown operator \$regex/.test(m)), messages.join('\n'));
    assert.ok(messages.some((m) => /roles\[0\]\.read\.%%usr\.id: unknown expansion %%usr\.id/.test(m)), messages.join('\n'));
    assert.ok(messages.some((m) => /%function calls "missing"/.test(m)), messages.join('\n'));
    assert.ok(messages.some((m) => /schema\.json properties\.n\.validate\.%%this: unknown operator %foo/.test(m)), messages.join('\n'));
    assert.equal(counted.roles, 1);
    assert.equal(counted.schemas, 1);
  });

  test('compiled once per app object', () => {
    const app = appWithRules({ defaultRule: { roles: [] } });
    assert.equal(compileAppRules(app), compileAppRules(app));
    assert.notEqual(compileAppRules(appWithRules({ defaultRule: { roles: [] } })), compileAppRules(app));
  });
});
