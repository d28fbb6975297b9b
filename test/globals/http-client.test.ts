import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as bson from 'bson';
import { createHttpClient, canonicalHeaderName } from '../../src/runtime/globals/http-client';
import { createBSONGlobal } from '../../src/runtime/globals/bson';

createBSONGlobal(); // installs Binary.prototype.text()
type Text = { text(): string };

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

let server: http.Server;
let base: string;
let port: number;

before(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen: Seen = { method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks).toString() };
      const path = new URL(req.url!, 'http://x').pathname;
      if (path === '/redirect') {
        res.writeHead(302, { Location: '/echo?from=redirect' });
        res.end('moved');
        return;
      }
      if (path === '/redirect307') {
        res.writeHead(307, { Location: '/echo' });
        res.end();
        return;
      }
      if (path === '/loop') {
        res.writeHead(302, { Location: '/loop' });
        res.end();
        return;
      }
      if (path === '/empty') {
        res.writeHead(204);
        res.end();
        return;
      }
      if (path === '/slow') {
        setTimeout(() => res.end('late'), 2000);
        return;
      }
      if (path === '/big') {
        res.end(Buffer.alloc(4096, 97));
        return;
      }
      const payload = Buffer.from(JSON.stringify(seen));
      res.writeHead(201, 'Made It', [
        'content-type', 'application/json',
        'x-multi', 'one',
        'x-multi', 'two',
        'set-cookie', 'session=abc123; Path=/; HttpOnly',
        'set-cookie', 'theme=dark',
        'content-length', String(payload.length),
      ]);
      res.end(payload);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const client = createHttpClient({ timeoutMs: 5000 });

function seenOf(res: { body: unknown }): Seen {
  return JSON.parse((res.body as Text).text()) as Seen;
}

test('GET by url: response shape (status text, canonical multi-valued headers, cookies, Binary body)', async () => {
  const res = await client.get({ url: `${base}/echo?a=1`, headers: { 'X-Custom': ['v1', 'v2'], 'x-plain': 'single' } });
  assert.equal(res.status, '201 Made It');
  assert.equal(res.statusCode, 201);
  assert.deepEqual(res.headers['Content-Type'], ['application/json']);
  assert.deepEqual(res.headers['X-Multi'], ['one', 'two']);
  assert.deepEqual(res.cookies, { session: 'abc123', theme: 'dark' });
  assert.ok(res.body instanceof bson.Binary);
  assert.equal(res.contentLength, (res.body as bson.Binary).position);
  const seen = seenOf(res);
  assert.equal(seen.method, 'GET');
  assert.equal(seen.url, '/echo?a=1');
  assert.equal(seen.headers['x-custom'], 'v1, v2');
  assert.equal(seen.headers['x-plain'], 'single');
});

test('URL from parts: scheme default http, host with port, path, query arrays, username/password', async () => {
  const res = await client.get({
    host: `127.0.0.1:${port}`,
    path: 'echo',
    query: { id: ['8675309'], color: ['red', 'blue'] },
    fragment: 'ignored',
    username: 'user',
    password: 'p@ss',
    cookies: { favoriteTeam: 'Chicago Cubs' },
  });
  const seen = seenOf(res);
  assert.equal(seen.url, '/echo?id=8675309&color=red&color=blue');
  assert.equal(seen.headers.authorization, `Basic ${Buffer.from('user:p@ss').toString('base64')}`);
  assert.equal(seen.headers.cookie, 'favoriteTeam=Chicago Cubs');
});

test('POST bodies: string, Binary, encodeBodyAsJSON (relaxed EJSON), form (multipart and urlencoded)', async () => {
  let seen = seenOf(await client.post({ url: `${base}/echo`, body: 'hello', headers: { 'Content-Type': ['text/plain'] } }));
  assert.equal(seen.body, 'hello');
  assert.equal(seen.headers['content-type'], 'text/plain');
  seen = seenOf(await client.put({ url: `${base}/echo`, body: new bson.Binary(Buffer.from('bin')) }));
  assert.equal(seen.method, 'PUT');
  assert.equal(seen.body, 'bin');
  seen = seenOf(await client.patch({ url: `${base}/echo`, body: { n: 5, when: new Date(0), id: bson.ObjectId.createFromHexString('5e58667d902d38559c802b13') }, encodeBodyAsJSON: true }));
  assert.equal(seen.method, 'PATCH');
  assert.equal(seen.body, '{"n":5,"when":{"$date":"1970-01-01T00:00:00.000Z"},"id":{"$oid":"5e58667d902d38559c802b13"}}');
  assert.equal(seen.headers['content-type'], 'application/json');
  seen = seenOf(await client.post({ url: `${base}/echo`, form: { 'to-address': 'name@example.com', subject: 'hi there' }, headers: { 'Content-Type': ['multipart/form-data'] } }));
  const ct = String(seen.headers['content-type']);
  assert.match(ct, /^multipart\/form-data; boundary=atrium[0-9a-f]+$/);
  const boundary = ct.split('boundary=')[1];
  assert.equal(
    seen.body,
    `--${boundary}\r\nContent-Disposition: form-data; name="to-address"\r\n\r\nname@example.com\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="subject"\r\n\r\nhi there\r\n--${boundary}--\r\n`,
  );
  seen = seenOf(await client.post({ url: `${base}/echo`, form: { a: 'x y', b: ['1', '2'] }, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }));
  assert.equal(seen.body, 'a=x+y&b=1&b=2');
  await assert.rejects(client.post({ url: `${base}/echo`, body: { a: 1 } }), /set encodeBodyAsJSON: true/);
  await assert.rejects(client.post({ url: `${base}/echo`, body: 'x', form: { a: 'b' } }), /either body or form/);
});

test('DELETE and HEAD; an empty body is undefined', async () => {
  const del = await client.delete({ url: `${base}/echo` });
  assert.equal(seenOf(del).method, 'DELETE');
  const head = await client.head({ url: `${base}/echo` });
  assert.equal(head.statusCode, 201);
  assert.equal(head.body, undefined);
  const empty = await client.get({ url: `${base}/empty` });
  assert.equal(empty.status, '204 No Content');
  assert.equal(empty.body, undefined);
  assert.equal(empty.contentLength, -1);
});

test('redirects are returned as-is by default and followed with followRedirects', async () => {
  const raw = await client.get({ url: `${base}/redirect` });
  assert.equal(raw.statusCode, 302);
  assert.deepEqual(raw.headers.Location, ['/echo?from=redirect']);
  const followed = await client.post({ url: `${base}/redirect`, body: 'payload', followRedirects: true });
  assert.equal(followed.statusCode, 201);
  const seen = seenOf(followed);
  assert.equal(seen.method, 'GET', '302 turns POST into GET, as Go does');
  assert.equal(seen.body, '');
  assert.equal(seen.url, '/echo?from=redirect');
  const kept = seenOf(await client.post({ url: `${base}/redirect307`, body: 'payload', followRedirects: true }));
  assert.equal(kept.method, 'POST');
  assert.equal(kept.body, 'payload');
  await assert.rejects(client.get({ url: `${base}/loop`, followRedirects: true }), /stopped after 10 redirects/);
});

test('clear errors: bad options, unsupported features, refused connection, timeout, oversized body', async () => {
  await assert.rejects(client.get(undefined as unknown as Record<string, unknown>), /expects a request document/);
  await assert.rejects(client.get({}), /give either url or host/);
  await assert.rejects(client.get({ url: 'not a url' }), /not an absolute URL/);
  await assert.rejects(client.get({ url: 'ftp://127.0.0.1/' }), /only http and https/);
  await assert.rejects(client.get({ url: `${base}/echo`, digestAuth: true, username: 'a', password: 'b' }), /digestAuth is not supported/);
  await assert.rejects(client.get({ url: `${base}/echo`, headers: { 'X-Bad': ['a\r\nInjected: 1'] } }), /invalid request|Invalid character/i);
  // A port nothing listens on (the closed listener's port).
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  await assert.rejects(client.get({ url: `http://user:secret@127.0.0.1:${closedPort}/` }), (e: Error) => {
    assert.match(e.message, /ECONNREFUSED/);
    assert.doesNotMatch(e.message, /secret/, 'credentials are not echoed');
    return true;
  });
  const quick = createHttpClient({ timeoutMs: 200, maxResponseBytes: 1000 });
  await assert.rejects(quick.get({ url: `${base}/slow` }), /timed out/);
  await assert.rejects(quick.get({ url: `${base}/big` }), /larger than 1000 bytes/);
});

test('canonical header names follow Go', () => {
  assert.equal(canonicalHeaderName('content-type'), 'Content-Type');
  assert.equal(canonicalHeaderName('X-REQUEST-ID'), 'X-Request-Id');
  assert.equal(canonicalHeaderName('www-authenticate'), 'Www-Authenticate');
  assert.equal(canonicalHeaderName('weird header'), 'weird header');
});
