// `atrium data import|export|indexes` run as the real CLI on a temp app and data dir.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EJSON, Long, ObjectId } from 'bson';
import { closeDataSources } from '../../src/data';
import { runCli } from '../helpers/server';
import { removeDir, systemClient, tempDataDir, testApp } from './helpers';

let appDir: string;
let dataDir: string;
let work: string;

before(() => {
  appDir = tempDataDir('atrium-cli-app-');
  dataDir = tempDataDir('atrium-cli-data-');
  work = tempDataDir('atrium-cli-files-');
  const ds = path.join(appDir, 'data_sources', 'mongodb-atlas');
  fs.mkdirSync(path.join(ds, 'shop', 'items'), { recursive: true });
  fs.writeFileSync(path.join(appDir, 'realm_config.json'), JSON.stringify({ app_id: 'cli-test-abcde', name: 'cli-test', config_version: 20210101 }));
  fs.writeFileSync(path.join(ds, 'config.json'), JSON.stringify({ name: 'mongodb-atlas', type: 'mongodb-atlas', config: {} }));
  fs.writeFileSync(path.join(ds, 'shop', 'items', 'indexes.json'), JSON.stringify([{ key: { sku: 1 }, unique: true }]));
});
after(async () => {
  await closeDataSources();
  for (const d of [appDir, dataDir, work]) removeDir(d);
});

const base = (coll: string): string[] => [appDir, '--db', 'shop', '--collection', coll, '--data-dir', dataDir];
const items = () => systemClient(dataDir, 'mongodb-atlas', testApp()).db('shop');

describe('atrium data', () => {
  it('imports a JSON array with EJSON types, creating the configured indexes first', async () => {
    const file = path.join(work, 'items.json');
    fs.writeFileSync(
      file,
      `[\n  {"_id": {"$oid": "64b7f0c2a1b2c3d4e5f60718"}, "sku": "a", "n": {"$numberLong": "5"}, "at": {"$date": "2024-01-01T00:00:00Z"}},\n  {"sku": "b", "s": "tricky \\" ] } text"}\n]\n`,
    );
    const r = await runCli(['data', 'import', ...base('items'), file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /imported 2 documents into shop\.items/);
    await closeDataSources();
    const a = await items().collection('items').findOne({ sku: 'a' });
    assert.ok(a!._id instanceof ObjectId);
    assert.equal(a!.n, 5);
    assert.ok(a!.at instanceof Date);
    assert.equal((await items().collection('items').findOne({ sku: 'b' }))!.s, 'tricky " ] } text');
    const idx = await runCli(['data', 'indexes', ...base('items')]);
    assert.equal(idx.code, 0, idx.stderr);
    assert.match(idx.stdout, /sku_1\s+\{"sku":1\}\s+\(unique\)/);
  });

  it('stops at the first bad document, reporting its line, and keeps what came before', async () => {
    const file = path.join(work, 'bad.ejsonl');
    fs.writeFileSync(file, '{"sku": "c1"}\n{"sku": "c2"}\n{"sku": \n{"sku": "c4"}\n');
    const r = await runCli(['data', 'import', ...base('items'), '--batch-size', '1', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /line 3: document 3 is not valid/);
    assert.match(r.stderr, /2 documents imported before it/);
    await closeDataSources();
    assert.equal(await items().collection('items').count({ sku: { $in: ['c1', 'c2', 'c4'] } }), 2);
    const dup = path.join(work, 'dup.ejsonl');
    fs.writeFileSync(dup, '{"sku": "d1"}\n{"sku": "a"}\n');
    const d = await runCli(['data', 'import', ...base('items'), dup]);
    assert.equal(d.code, 1);
    assert.match(d.stderr, /line 2 was refused: E11000 .*index: sku_1/);
  });

  it('--mode upsert replaces documents with the same _id', async () => {
    const file = path.join(work, 'up.ejsonl');
    fs.writeFileSync(file, '{"_id": 1, "v": 1}\n');
    assert.equal((await runCli(['data', 'import', ...base('up'), file])).code, 0);
    fs.writeFileSync(file, '{"_id": 1, "v": 2}\n{"_id": 2, "v": 1}\n');
    assert.equal((await runCli(['data', 'import', ...base('up'), file])).code, 1, 'insert mode refuses the existing _id');
    const r = await runCli(['data', 'import', ...base('up'), '--mode', 'upsert', file]);
    assert.equal(r.code, 0, r.stderr);
    await closeDataSources();
    assert.deepEqual(await items().collection('up').find({}).sort({ _id: 1 }).toArray(), [
      { _id: 1, v: 2 },
      { _id: 2, v: 1 },
    ]);
  });

  it('exports canonical EJSON (array or lines) that imports back identically, with a progress bar for big files', async () => {
    const big = path.join(work, 'big.ejsonl');
    const lines: string[] = [];
    for (let i = 0; i < 20000; i++) lines.push(EJSON.stringify({ _id: i, name: `item-${i}`, price: i / 4, qty: Long.fromNumber(i), pad: 'x'.repeat(40) }, { relaxed: false }));
    fs.writeFileSync(big, lines.join('\n') + '\n');
    assert.ok(fs.statSync(big).size > 1024 * 1024);
    const imp = await runCli(['data', 'import', ...base('big'), big]);
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stderr, /importing big\.ejsonl: 100% \(20,000 documents\)/, 'progress lines on a non-terminal');
    const out = path.join(work, 'export.json');
    const exp = await runCli(['data', 'export', ...base('big'), '--out', out]);
    assert.equal(exp.code, 0, exp.stderr);
    assert.match(exp.stderr, /exported 20000 documents/);
    const parsed = EJSON.parse(fs.readFileSync(out, 'utf8'), { relaxed: false }) as Array<Record<string, unknown>>;
    assert.equal(parsed.length, 20000);
    assert.equal(EJSON.stringify(parsed[7], { relaxed: false }), lines[7], 'types and values are exact');
    const lined = await runCli(['data', 'export', ...base('big'), '--format', 'ejsonl']);
    assert.equal(lined.code, 0);
    assert.equal(lined.stdout, lines.join('\n') + '\n');
    // Round trip into another collection.
    assert.equal((await runCli(['data', 'import', ...base('big2'), out])).code, 0);
    const again = await runCli(['data', 'export', ...base('big2'), '--format', 'ejsonl']);
    assert.equal(again.stdout, lined.stdout);
  });

  it('creates and drops indexes', async () => {
    const c = await runCli(['data', 'indexes', ...base('ix'), '--create', '{"a": 1, "b": -1}', '--unique']);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(c.stdout.trim(), 'a_1_b_-1');
    assert.match((await runCli(['data', 'indexes', ...base('ix')])).stdout, /a_1_b_-1\s+\{"a":1,"b":-1\}\s+\(unique\)/);
    assert.equal((await runCli(['data', 'indexes', ...base('ix'), '--drop', 'a_1_b_-1'])).code, 0);
    assert.doesNotMatch((await runCli(['data', 'indexes', ...base('ix')])).stdout, /a_1_b_-1/);
    const bad = await runCli(['data', 'indexes', ...base('ix'), '--create', 'not json']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--create expects the index keys as JSON/);
  });

  it('explains its usage and refuses unknown data sources', async () => {
    for (const cmd of ['import', 'export', 'indexes']) {
      const h = await runCli(['data', cmd, '--help']);
      assert.equal(h.code, 0);
      assert.match(h.stdout, new RegExp(`Usage: atrium data ${cmd}`));
    }
    const r = await runCli(['data', 'export', ...base('x'), '--service', 'Nope']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no MongoDB data source named "Nope"/);
    assert.equal((await runCli(['data', 'export', appDir, '--collection', 'x'])).code, 2);
  });
});
