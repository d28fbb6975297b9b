// The practical limit for the data benchmarks: a hand-written node:http + better-sqlite3 server doing the same
// work as the Atrium endpoints, with the same SQLite settings (WAL, synchronous=NORMAL) and JSON documents.
//   GET /e        insert a small document, read it back by id, answer it
//   GET /f?cat=X  the documents of category X, through a SQLite index on the column
// argv: <sqlite file> <number of items to preload>
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { benchItem } from './data-items';

const file = process.argv[2];
const items = Number(process.argv[3] ?? '100000');
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec('CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, doc TEXT NOT NULL)');
db.exec('CREATE TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY, category TEXT NOT NULL, doc TEXT NOT NULL)');
db.exec('CREATE INDEX IF NOT EXISTS items_category ON items (category)');
const insertItem = db.prepare('INSERT OR IGNORE INTO items (id, category, doc) VALUES (?, ?, ?)');
db.transaction(() => {
  for (let i = 0; i < items; i++) {
    const doc = benchItem(i);
    insertItem.run(doc._id, doc.category, JSON.stringify(doc));
  }
})();

const insertEvent = db.prepare('INSERT INTO events (id, doc) VALUES (?, ?)');
const eventById = db.prepare<[string], { doc: string }>('SELECT doc FROM events WHERE id = ?');
const byCategory = db.prepare<[string], { doc: string }>('SELECT doc FROM items WHERE category = ?');

const server = http.createServer((req, res) => {
  req.resume();
  const url = new URL(req.url ?? '/', 'http://x');
  let body: string;
  if (url.pathname === '/e') {
    const id = crypto.randomBytes(12).toString('hex');
    insertEvent.run(id, JSON.stringify({ _id: id, name: 'event', n: 42, at: new Date().toISOString(), tags: ['a', 'b'] }));
    body = JSON.stringify(JSON.parse(eventById.get(id)!.doc));
  } else if (url.pathname === '/f') {
    body = JSON.stringify(byCategory.all(url.searchParams.get('cat') ?? 'c0').map((r) => JSON.parse(r.doc) as unknown));
  } else {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
});

server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`));
