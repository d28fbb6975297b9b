// Durability and sharing of the embedded store: data survives close/reopen and kill -9, and several processes
// and worker threads write one data dir safely.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { closeDataSources } from '../../src/data';
import { removeDir, systemClient, tempDataDir } from './helpers';

const CHILD = path.join(__dirname, 'writer-child.js');
const dirs: string[] = [];
function dataDir(): string {
  const d = tempDataDir();
  dirs.push(d);
  return d;
}
after(async () => {
  await closeDataSources();
  for (const d of dirs) removeDir(d);
});

function runChild(args: string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.once('error', reject);
    p.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`child exited ${code}: ${err}`));
      else resolve(code);
    });
  });
}

describe('persistence', () => {
  it('documents and indexes survive closing and reopening the store', async () => {
    const dir = dataDir();
    const c = systemClient(dir).db('p').collection('items');
    await c.createIndex({ sku: 1 }, { unique: true });
    await c.insertMany([{ sku: 'a', n: 1 }, { sku: 'b', n: 2 }]);
    await closeDataSources();
    const again = systemClient(dir).db('p').collection('items');
    assert.deepEqual(await again.find({}, { _id: 0 }).sort({ sku: 1 }).toArray(), [
      { sku: 'a', n: 1 },
      { sku: 'b', n: 2 },
    ]);
    await assert.rejects(again.insertOne({ sku: 'a' }), /E11000/);
  });

  it('every acknowledged write survives kill -9 of the writing process', async () => {
    const dir = dataDir();
    const child = spawn(process.execPath, [CHILD, dir, 'burst'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let acked = -1;
    let out = '';
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const killed = new Promise<void>((resolve, reject) => {
      const guard = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`no write burst within 30 s: ${err}`));
      }, 30_000);
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const lines = out.split('\n');
        out = lines.pop() ?? '';
        for (const l of lines) {
          const m = /^ack (\d+)$/.exec(l);
          if (m) acked = Number(m[1]);
        }
        // Kill in the middle of the burst, once plenty of writes are acknowledged.
        if (acked >= 400 && child.exitCode === null && !child.killed) {
          child.kill('SIGKILL');
          clearTimeout(guard);
        }
      });
      child.once('exit', () => resolve());
    });
    await killed;
    assert.ok(acked >= 400, `acknowledged ${acked}`);
    const c = systemClient(dir).db('durability').collection('docs');
    const ids = new Set((await c.find({ _id: { $type: 'number' } }, { _id: 1 }).toArray()).map((d) => d._id));
    for (let i = 0; i <= acked; i++) assert.ok(ids.has(i), `acknowledged write ${i} is missing after kill -9`);
    const counter = await c.findOne({ _id: 'counter' });
    assert.ok((counter!.n as number) >= Math.floor(acked / 3) + 1, 'acknowledged updates are there too');
    await closeDataSources();
    const db = new Database(path.join(dir, 'data', 'mongodb-atlas.sqlite'));
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    db.close();
  });

  it('two processes writing the same data dir lose nothing', async () => {
    const dir = dataDir();
    await Promise.all([runChild([dir, 'counter', 'A', '300']), runChild([dir, 'counter', 'B', '300'])]);
    const c = systemClient(dir).db('durability').collection('docs');
    assert.equal(await c.count({ tag: 'A' }), 300);
    assert.equal(await c.count({ tag: 'B' }), 300);
    assert.equal((await c.findOne({ _id: 'counter' }))!.n, 600, 'no lost $inc across processes');
  });

  it('two worker threads writing the same data dir lose nothing', async () => {
    const dir = dataDir();
    const run = (tag: string): Promise<void> =>
      new Promise((resolve, reject) => {
        const w = new Worker(CHILD, { workerData: { dataDir: dir, mode: 'counter', tag, count: 300 } });
        const timer = setTimeout(() => void w.terminate(), 60_000);
        w.once('message', () => {
          clearTimeout(timer);
          resolve();
        });
        w.once('error', reject);
        w.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`worker exited ${code}`))));
      });
    await Promise.all([run('A'), run('B')]);
    const c = systemClient(dir).db('durability').collection('docs');
    assert.equal(await c.count({ tag: { $in: ['A', 'B'] } }), 600);
    assert.equal((await c.findOne({ _id: 'counter' }))!.n, 600);
  });
});
