// context.http (§11.2): get/post/put/patch/delete/head with App Services' request document and response shape,
// on node:http/https. Header names in responses are canonicalised the way Go's net/http did
// (`content-type` -> `Content-Type`), values are arrays, and the body is a BSON.Binary (undefined when empty).

import * as http from 'node:http';
import * as https from 'node:https';
import { randomBytes } from 'node:crypto';
import { Binary } from 'bson';
import { stringifyEJSON } from './ejson';
import { bsonTypeOf, bytesOf } from './values';

export interface HttpClientOptions {
  /** Whole-request limit (connect, send, receive), ms. */
  timeoutMs?: number;
  /** Largest response body accepted, bytes. */
  maxResponseBytes?: number;
  /** Redirects followed when followRedirects is true (Go's default is 10). */
  maxRedirects?: number;
}

export interface HttpResponseDoc {
  status: string;
  statusCode: number;
  /** Content-Length of the response, or -1 when the server did not send one (Go's convention). */
  contentLength: number;
  headers: Record<string, string[]>;
  cookies: Record<string, string>;
  body: Binary | undefined;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
export type HttpClient = Readonly<Record<'get' | 'post' | 'put' | 'patch' | 'delete' | 'head', (opts: Record<string, unknown>) => Promise<HttpResponseDoc>>>;

const DEFAULTS: Required<HttpClientOptions> = { timeoutMs: 60_000, maxResponseBytes: 64 * 1024 * 1024, maxRedirects: 10 };

class HttpRequestError extends Error {
  override name = 'HttpRequestError';
}

/** Go's textproto.CanonicalMIMEHeaderKey: `x-request-id` -> `X-Request-Id`; names with other characters are kept. */
export function canonicalHeaderName(name: string): string {
  if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) return name;
  let out = '';
  let upper = true;
  for (const ch of name) {
    out += upper ? ch.toUpperCase() : ch.toLowerCase();
    upper = ch === '-';
  }
  return out;
}

function stringValues(v: unknown, fn: string, what: string): string[] {
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => {
    if (typeof x === 'string') return x;
    if (typeof x === 'number' || typeof x === 'boolean') return String(x);
    throw new TypeError(`${fn}: ${what} values must be strings (or arrays of strings)`);
  });
}

function plainObject(v: unknown, fn: string, what: string): Record<string, unknown> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new TypeError(`${fn}: ${what} must be an object`);
  return v as Record<string, unknown>;
}

function buildUrl(opts: Record<string, unknown>, fn: string): URL {
  let url: URL;
  if (opts.url !== undefined) {
    if (typeof opts.url !== 'string') throw new TypeError(`${fn}: url must be a string`);
    try {
      url = new URL(opts.url);
    } catch {
      throw new TypeError(`${fn}: url ${JSON.stringify(opts.url)} is not an absolute URL`);
    }
  } else {
    if (typeof opts.host !== 'string' || opts.host === '') throw new TypeError(`${fn}: give either url or host (with scheme, path, query)`);
    const scheme = opts.scheme === undefined ? 'http' : opts.scheme;
    if (typeof scheme !== 'string') throw new TypeError(`${fn}: scheme must be "http" or "https"`);
    const path = typeof opts.path === 'string' ? (opts.path.startsWith('/') ? opts.path : `/${opts.path}`) : '/';
    try {
      url = new URL(`${scheme}://${opts.host}`);
      url.pathname = path;
    } catch {
      throw new TypeError(`${fn}: scheme/host ${JSON.stringify(`${scheme}://${opts.host}`)} do not form a URL`);
    }
    if (typeof opts.fragment === 'string') url.hash = opts.fragment;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`${fn}: only http and https URLs are supported, got ${url.protocol}`);
  const query = plainObject(opts.query, fn, 'query');
  if (query) for (const [k, v] of Object.entries(query)) for (const s of stringValues(v, fn, 'query')) url.searchParams.append(k, s);
  if (typeof opts.username === 'string') url.username = opts.username;
  if (typeof opts.password === 'string') url.password = opts.password;
  return url;
}

/** The URL without credentials, for error messages. */
function shownUrl(url: URL): string {
  const u = new URL(url.href);
  u.username = '';
  u.password = '';
  return u.href;
}

interface Body {
  bytes: Buffer;
  contentType?: string;
}

function hasHeader(headers: Map<string, string[]>, name: string): string[] | undefined {
  for (const [k, v] of headers) if (k.toLowerCase() === name) return v;
  return undefined;
}

function buildBody(opts: Record<string, unknown>, headers: Map<string, string[]>, fn: string): Body | undefined {
  const { body, form } = opts;
  if (body !== undefined && body !== null && form !== undefined && form !== null) throw new TypeError(`${fn}: use either body or form, not both`);
  if (form !== undefined && form !== null) {
    const fields = plainObject(form, fn, 'form')!;
    const declared = hasHeader(headers, 'content-type')?.[0]?.toLowerCase() ?? '';
    if (declared.startsWith('application/x-www-form-urlencoded')) {
      const p = new URLSearchParams();
      for (const [k, v] of Object.entries(fields)) for (const s of stringValues(v, fn, 'form')) p.append(k, s);
      return { bytes: Buffer.from(p.toString()), contentType: 'application/x-www-form-urlencoded' };
    }
    // multipart/form-data, as the docs describe; a declared Content-Type without a boundary is replaced.
    const boundary = `atrium${randomBytes(12).toString('hex')}`;
    const parts: Buffer[] = [];
    for (const [k, v] of Object.entries(fields)) {
      for (const s of stringValues(v, fn, 'form')) {
        const name = k.replace(/["\r\n]/g, (c) => encodeURIComponent(c));
        parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${s}\r\n`));
      }
    }
    parts.push(Buffer.from(`--${boundary}--\r\n`));
    return { bytes: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
  }
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return { bytes: Buffer.from(body, 'utf8') };
  if (typeof body === 'object') {
    if (bsonTypeOf(body) === 'Binary') {
      const b = body as Binary;
      return { bytes: Buffer.from(b.buffer.buffer, b.buffer.byteOffset, b.position) };
    }
    const raw = bytesOf(body);
    if (raw) return { bytes: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength) };
    if (opts.encodeBodyAsJSON === true) {
      return { bytes: Buffer.from(stringifyEJSON(body, 'relaxed') ?? 'null', 'utf8'), contentType: 'application/json' };
    }
  }
  throw new TypeError(`${fn}: body must be a string or a BSON.Binary; to send an object as JSON set encodeBodyAsJSON: true`);
}

function buildHeaders(opts: Record<string, unknown>, url: URL, fn: string): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  const given = plainObject(opts.headers, fn, 'headers');
  if (given) {
    for (const [k, v] of Object.entries(given)) {
      if (v === undefined || v === null) continue;
      headers.set(k, stringValues(v, fn, 'header'));
    }
  }
  const cookies = plainObject(opts.cookies, fn, 'cookies');
  if (cookies) {
    const pairs = Object.entries(cookies).map(([k, v]) => `${k}=${stringValues(v, fn, 'cookie').join(',')}`);
    if (pairs.length) {
      const existing = hasHeader(headers, 'cookie');
      if (existing) existing.push(pairs.join('; '));
      else headers.set('Cookie', [pairs.join('; ')]);
    }
  }
  if ((url.username || url.password) && !hasHeader(headers, 'authorization')) {
    const creds = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    headers.set('Authorization', [`Basic ${Buffer.from(creds).toString('base64')}`]);
  }
  return headers;
}

function parseCookies(setCookie: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of setCookie ?? []) {
    const first = line.split(';', 1)[0]!;
    const eq = first.indexOf('=');
    if (eq <= 0) continue;
    out[first.slice(0, eq).trim()] = first.slice(eq + 1).trim();
  }
  return out;
}

interface Attempt {
  method: Method;
  url: URL;
  headers: Map<string, string[]>;
  body: Body | undefined;
}

function send(a: Attempt, cfg: Required<HttpClientOptions>, deadline: number, fn: string): Promise<{ res: http.IncomingMessage; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string[] | string> = {};
    for (const [k, v] of a.headers) headers[k] = v.length === 1 ? v[0]! : v;
    if (a.body) {
      if (a.body.contentType) {
        const declared = hasHeader(a.headers, 'content-type')?.[0];
        const replaceMultipart = declared !== undefined && a.body.contentType.startsWith('multipart/') && !/boundary=/i.test(declared);
        if (declared === undefined || replaceMultipart) {
          for (const k of Object.keys(headers)) if (k.toLowerCase() === 'content-type') delete headers[k];
          headers['Content-Type'] = a.body.contentType;
        }
      }
      headers['Content-Length'] = String(a.body.bytes.length);
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      reject(new HttpRequestError(`${fn}: request to ${shownUrl(a.url)} timed out`));
      return;
    }
    let req: http.ClientRequest;
    try {
      const mod = a.url.protocol === 'https:' ? https : http;
      req = mod.request(a.url, { method: a.method, headers, auth: undefined });
    } catch (e) {
      reject(new HttpRequestError(`${fn}: invalid request to ${shownUrl(a.url)}: ${(e as Error).message}`));
      return;
    }
    let settled = false;
    const fail = (msg: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(new HttpRequestError(`${fn}: request to ${shownUrl(a.url)} failed: ${msg}`));
    };
    const timer = setTimeout(() => fail(`timed out after ${cfg.timeoutMs} ms`), remaining);
    req.on('error', (e) => fail(e.message));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > cfg.maxResponseBytes) {
          fail(`the response body is larger than ${cfg.maxResponseBytes} bytes`);
          return;
        }
        chunks.push(c);
      });
      res.on('error', (e) => fail(e.message));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ res, body: Buffer.concat(chunks) });
      });
    });
    if (a.body) req.end(a.body.bytes);
    else req.end();
  });
}

function responseDoc(res: http.IncomingMessage, body: Buffer): HttpResponseDoc {
  const headers: Record<string, string[]> = {};
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = canonicalHeaderName(raw[i]!);
    (headers[name] ??= []).push(raw[i + 1]!);
  }
  const declared = Number(res.headers['content-length']);
  return {
    status: `${res.statusCode ?? 0} ${res.statusMessage ?? ''}`.trimEnd(),
    statusCode: res.statusCode ?? 0,
    contentLength: Number.isSafeInteger(declared) && declared >= 0 ? declared : -1,
    headers,
    cookies: parseCookies(res.headers['set-cookie']),
    body: body.length > 0 ? new Binary(body) : undefined,
  };
}

const SENSITIVE_ON_CROSS_HOST = ['authorization', 'cookie', 'www-authenticate'];

async function perform(method: Method, opts: unknown, cfg: Required<HttpClientOptions>): Promise<HttpResponseDoc> {
  const fn = `context.http.${method.toLowerCase()}`;
  const o = plainObject(opts, fn, 'the request');
  if (!o) throw new TypeError(`${fn}: expects a request document, e.g. {url: "https://example.com"}`);
  if (o.digestAuth === true) throw new HttpRequestError(`${fn}: digestAuth is not supported by Atrium`);
  if (o.authUrl !== undefined && o.authUrl !== null && o.authUrl !== '') throw new HttpRequestError(`${fn}: authUrl is not supported by Atrium`);
  const url = buildUrl(o, fn);
  const headers = buildHeaders(o, url, fn);
  let attempt: Attempt = { method, url, headers, body: buildBody(o, headers, fn) };
  const deadline = Date.now() + cfg.timeoutMs;
  for (let redirects = 0; ; redirects++) {
    const { res, body } = await send(attempt, cfg, deadline, fn);
    const code = res.statusCode ?? 0;
    const location = res.headers.location;
    if (o.followRedirects !== true || ![301, 302, 303, 307, 308].includes(code) || !location) return responseDoc(res, body);
    if (redirects >= cfg.maxRedirects) throw new HttpRequestError(`${fn}: stopped after ${cfg.maxRedirects} redirects`);
    let next: URL;
    try {
      next = new URL(location, attempt.url);
    } catch {
      throw new HttpRequestError(`${fn}: the server redirected to an invalid location ${JSON.stringify(location)}`);
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new HttpRequestError(`${fn}: redirect to unsupported scheme ${next.protocol}`);
    // Go's client: 301/302/303 turn a non-GET/HEAD into GET without a body; 307/308 resend as is.
    const keepMethod = code === 307 || code === 308 || attempt.method === 'GET' || attempt.method === 'HEAD';
    const nextHeaders = new Map(attempt.headers);
    if (!keepMethod) for (const k of [...nextHeaders.keys()]) if (/^content-(type|length)$/i.test(k)) nextHeaders.delete(k);
    if (next.host !== attempt.url.host) {
      for (const k of [...nextHeaders.keys()]) if (SENSITIVE_ON_CROSS_HOST.includes(k.toLowerCase())) nextHeaders.delete(k);
    }
    attempt = { method: keepMethod ? attempt.method : 'GET', url: next, headers: nextHeaders, body: keepMethod ? attempt.body : undefined };
  }
}

/** The frozen `context.http` object. One per app per worker is fine; it holds no per-call state. */
export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  const cfg: Required<HttpClientOptions> = { ...DEFAULTS, ...options };
  const make = (m: Method) => (opts: Record<string, unknown>) => perform(m, opts, cfg);
  return Object.freeze({
    get: make('GET'),
    post: make('POST'),
    put: make('PUT'),
    patch: make('PATCH'),
    delete: make('DELETE'),
    head: make('HEAD'),
  });
}
