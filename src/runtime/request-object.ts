// §6.1 the request object an endpoint function receives, and §6.2 `context.request`.
// App Services ran on Go's net/http: header names arrive canonicalized (`x-custom-header` -> `X-Custom-Header`),
// every header value is an array, the query keeps the first value of a repeated key, and a `secret` query
// parameter (endpoint validation) is removed from both the query object and the raw query string.
import type { IncomingRequestData } from './types';

export type HeaderMap = Record<string, string[]>;

/** Constructs a BSON.Binary (subtype 0) over the given bytes. */
export type BinaryFactory = (bytes: Uint8Array) => unknown;

export interface EndpointRequest {
  query: Record<string, string>;
  headers: HeaderMap;
  body: unknown;
}

export interface ContextRequest {
  remoteIPAddress: string | undefined;
  requestHeaders: HeaderMap;
  webhookUrl?: string;
  httpMethod?: string;
  rawQueryString: string;
  httpReferrer: string | undefined;
  httpUserAgent: string | undefined;
  service?: string;
  action?: string;
}

const canonicalCache = new Map<string, string>();
const TOKEN_CHAR = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Go's textproto.CanonicalMIMEHeaderKey: `content-type` -> `Content-Type`; names with non-token bytes unchanged. */
export function canonicalHeaderName(name: string): string {
  const cached = canonicalCache.get(name);
  if (cached !== undefined) return cached;
  let out = name;
  if (TOKEN_CHAR.test(name)) {
    out = '';
    let upper = true;
    for (const ch of name) {
      out += upper ? ch.toUpperCase() : ch.toLowerCase();
      upper = ch === '-';
    }
  }
  if (canonicalCache.size < 2000) canonicalCache.set(name, out);
  return out;
}

export function headerMap(pairs: Array<[string, string]>): HeaderMap {
  const map: HeaderMap = {};
  for (const [rawName, value] of pairs) {
    const name = canonicalHeaderName(rawName);
    const existing = Object.prototype.hasOwnProperty.call(map, name) ? map[name] : undefined;
    if (existing) existing.push(value);
    else defineEntry(map, name, [value]);
  }
  return map;
}

/** Decodes one query component like Go's url.QueryUnescape; null when it is malformed (Go drops such pairs). */
export function decodeQueryComponent(text: string): string | null {
  if (text.indexOf('%') === -1 && text.indexOf('+') === -1) return text;
  const spaced = text.replace(/\+/g, ' ');
  if (/%(?![0-9A-Fa-f]{2})/.test(spaced)) return null;
  try {
    return decodeURIComponent(spaced);
  } catch {
    // Percent-escapes that are not valid UTF-8: decode the bytes, invalid sequences become U+FFFD.
    const bytes: number[] = [];
    for (let i = 0; i < spaced.length; i++) {
      if (spaced[i] === '%') {
        bytes.push(parseInt(spaced.slice(i + 1, i + 3), 16));
        i += 2;
      } else {
        for (const b of Buffer.from(spaced[i], 'utf8')) bytes.push(b);
      }
    }
    return Buffer.from(bytes).toString('utf8');
  }
}

interface QueryPair {
  raw: string;
  key: string;
  value: string;
}

/** Splits a raw query like Go's url.ParseQuery: on '&', skipping empty pairs, pairs with ';' in them and malformed escapes. */
function parsePairs(rawQuery: string): QueryPair[] {
  const pairs: QueryPair[] = [];
  if (rawQuery === '') return pairs;
  for (const raw of rawQuery.split('&')) {
    if (raw === '' || raw.includes(';')) continue;
    const eq = raw.indexOf('=');
    const key = decodeQueryComponent(eq === -1 ? raw : raw.slice(0, eq));
    const value = eq === -1 ? '' : decodeQueryComponent(raw.slice(eq + 1));
    if (key === null || value === null) continue;
    pairs.push({ raw, key, value });
  }
  return pairs;
}

/** `request.query`: first value of each key, `secret` removed. */
export function queryObject(rawQuery: string): Record<string, string> {
  const query: Record<string, string> = {};
  for (const { key, value } of parsePairs(rawQuery)) {
    if (key === 'secret' || Object.prototype.hasOwnProperty.call(query, key)) continue;
    defineEntry(query, key, value);
  }
  return query;
}

/** `context.request.rawQueryString`: the query as sent, with every `secret=` pair removed. */
export function rawQueryWithoutSecret(rawQuery: string): string {
  if (!rawQuery.includes('secret')) return rawQuery;
  return rawQuery
    .split('&')
    .filter((raw) => {
      const eq = raw.indexOf('=');
      return decodeQueryComponent(eq === -1 ? raw : raw.slice(0, eq)) !== 'secret';
    })
    .join('&');
}

export function buildEndpointRequest(req: IncomingRequestData, makeBinary: BinaryFactory): EndpointRequest {
  return {
    query: queryObject(req.rawQuery),
    headers: headerMap(req.headers),
    // An empty body is no body: functions test `request.body === undefined`.
    body: req.body !== undefined && req.body.byteLength > 0 ? makeBinary(req.body) : undefined,
  };
}

export interface ContextRequestExtras {
  /** Endpoint invocations only. */
  webhookUrl?: string;
  httpMethod?: string;
  service?: string;
  action?: string;
}

export function buildContextRequest(req: IncomingRequestData, extras: ContextRequestExtras): ContextRequest {
  const headers = headerMap(req.headers);
  const out: ContextRequest = {
    remoteIPAddress: req.remoteIp,
    requestHeaders: headers,
    rawQueryString: rawQueryWithoutSecret(req.rawQuery),
    httpReferrer: headers['Referer']?.[0],
    httpUserAgent: headers['User-Agent']?.[0],
  };
  if (extras.webhookUrl !== undefined) out.webhookUrl = extras.webhookUrl;
  if (extras.httpMethod !== undefined) out.httpMethod = extras.httpMethod;
  if (extras.service !== undefined) out.service = extras.service;
  if (extras.action !== undefined) out.action = extras.action;
  return out;
}

// A key named `__proto__` must become an own property, not change the prototype.
function defineEntry<T>(target: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}
