// The data layer through real endpoints of a running `atrium serve`: BSON types in responses, a returned cursor,
// persistence across a restart, kill -9 during a write burst, and two server processes sharing one data dir.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EJSON } from 'bson';
import { startAtrium } from '../helpers/server';
import type { RunningServer } from '../helpers/server';
import { removeDir, tempDataDir } from './helpers';

const FUNCTIONS: Record<string, string> = {
  insert: `exports = async function (request) {
  const docs = context.services.get("mongodb-atlas").db("app").collection("docs");
  const body = EJSON.parse(request.body.text());
  return await docs.insertOne(body);
};`,
  all: `exports = async function () {
  return context.services.get("mongodb-atlas").db("app").collection("docs").find({}, { _id: 0 }).sort({ seq: 1 });
};`,
  count: `exports = async function () {
  return { n: await context.services.get("mongodb-atlas").db("app").collection("docs").count() };
};`,
  types: `exports = async function () {
  const c = context.services.get("mongodb-atlas").db("app").collection("types");
  const { insertedId } = await c.insertOne({
    oid: new BSON.ObjectId("64b7f0c2a1b2c3d4e5f60718"),
    date: new Date(1641954803067),
    dec: BSON.Decimal128.fromString("9823.1297"),
    long: BSON.Long.fromString("9007199254740993"),
    int: new BSON.Int32(10),
    dbl: 10.5,
    bin: BSON.Binary.fromBase64("AQID", 0),
    nested: { list: [1, { deep: true }] },
  });
  const back = await c.findOne({ _id: insertedId }, { _id: 0 });
  const matched = await c.count({ dec: { $gt: 9823 }, long: { $gt: 9007199254740992 } });
  return { back, matched };
};`,
};

function writeApp(dir: string): void {
  fs.mkdirSync(path.join(dir, 'functions', 'data'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'http_endpoints'));
  fs.writeFileSync(path.join(dir, 'realm_config.json'), JSON.stringify({ config_version: 20210101, app_id: 'data-endpoints', name: 'data-endpoints' }));
  const names = Object.keys(FUNCTIONS);
  for (const n of names) fs.writeFileSync(path.join(dir, 'functions', 'data', `${n}.js`), FUNCTIONS[n]);
  fs.writeFileSync(path.join(dir, 'functions', 'config.json'), JSON.stringify(names.map((n) => ({ name: `data/${n}`, private: false, run_as_system: true }))));
  fs.writeFileSync(
    path.join(dir, 'http_endpoints', 'config.json'),
    JSON.stringify(
      names.map((n) => ({
        route: `/${n}`,
        http_method: n === 'insert' ? 'POST' : 'GET',
        function_name: `data/${n}`,
        validation_method: 'NO_VALIDATION',
        respond_result: true,
        disabled: false,
        return_type: n === 'types' ? 'EJSON' : 'JSON',
      })),
    ),
  );
}

let appDir: string;
const servers: RunningServer[] = [];
const dataDirs: string[] = [];

before(() => {
  appDir = tempDataDir('atrium-data-endpoints-app-');
  writeApp(appDir);
});
after(async () => {
  for (const s of servers) await s.stop('SIGKILL');
  removeDir(appDir);
  for (const d of dataDirs) removeDir(d);
});

async function start(dataDir: string): Promise<RunningServer> {
  const s = await startAtrium(appDir, { dataDir, args: ['--log-format', 'none', '--workers', '1'] });
  servers.push(s);
  return s;
}

async function insert(s: RunningServer, doc: unknown): Promise<Response> {
  return fetch(`${s.endpointBase}/insert`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: EJSON.stringify(doc) });
}

async function count(s: RunningServer): Promise<number> {
  const r = await fetch(`${s.endpointBase}/count`);
  assert.equal(r.status, 200);
  return ((await r.json()) as { n: number }).n;
}

describe('data through real endpoints', () => {
  it('answers BSON types as canonical EJSON and compares them exactly in queries', async () => {
    const dir = tempDataDir();
    dataDirs.push(dir);
    const s = await start(dir);
    const r = await fetch(`${s.endpointBase}/types`);
    assert.equal(r.status, 200);
    const body = (await r.json()) as { back: Record<string, unknown>; matched: unknown };
    assert.deepEqual(body.back.oid, { $oid: '64b7f0c2a1b2c3d4e5f60718' });
    assert.deepEqual(body.back.date, { $date: { $numberLong: '1641954803067' } });
    assert.deepEqual(body.back.dec, { $numberDecimal: '9823.1297' });
    assert.deepEqual(body.back.long, { $numberLong: '9007199254740993' });
    assert.deepEqual(body.back.bin, { $binary: { base64: 'AQID', subType: '00' } });
    // count() is a number; EJSON spells an integral number {"$numberLong": "1"} (or $numberInt).
    assert.equal(Number(Object.values(body.matched as Record<string, string>)[0]), 1, `one document matched: ${JSON.stringify(body.matched)}`);
    await s.stop();
  });

  it('keeps data across a restart, and a returned cursor is drained', async () => {
    const dir = tempDataDir();
    dataDirs.push(dir);
    let s = await start(dir);
    for (let i = 0; i < 3; i++) assert.equal((await insert(s, { seq: i, name: `n${i}` })).status, 200);
    assert.equal(await s.stop(), 0);
    s = await start(dir);
    const r = await fetch(`${s.endpointBase}/all`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), [
      { seq: 0, name: 'n0' },
      { seq: 1, name: 'n1' },
      { seq: 2, name: 'n2' },
    ]);
    await s.stop();
  });

  it('every write acknowledged by an endpoint survives kill -9 of the server', async () => {
    const dir = tempDataDir();
    dataDirs.push(dir);
    const s = await start(dir);
    let acked = 0;
    // Four clients writing at once; kill -9 while writes are in flight.
    const clients = Array.from({ length: 4 }, async (_, c) => {
      for (let i = 0; ; i++) {
        let res: Response;
        try {
          res = await insert(s, { seq: c * 100000 + i });
        } catch {
          return; // connection reset by the kill
        }
        if (res.status !== 200) return;
        await res.arrayBuffer();
        acked++;
        if (acked === 200) s.proc.kill('SIGKILL');
      }
    });
    await Promise.all(clients);
    assert.ok(acked >= 200);
    const again = await start(dir);
    assert.ok((await count(again)) >= acked, `all ${acked} acknowledged writes are there`);
    await again.stop();
  });

  it('two server processes share one data dir', async () => {
    const dir = tempDataDir();
    dataDirs.push(dir);
    const [a, b] = await Promise.all([start(dir), start(dir)]);
    await Promise.all(
      [a, b].map(async (s, k) => {
        for (let i = 0; i < 50; i++) {
          const r = await insert(s, { seq: k * 1000 + i });
          assert.equal(r.status, 200, await r.text());
        }
      }),
    );
    assert.equal(await count(a), 100);
    assert.equal(await count(b), 100);
    await Promise.all([a.stop(), b.stop()]);
  });
});
