// Reading what auth needs from the raw request data: credential headers (case-insensitive names, a repeated header
// with different values refused per policies.md), JSON bodies, and the §6.2 `context.request` shape for %%request.
import type { IncomingRequestData } from '../runtime/types';
import { AuthError, badRequest, invalidParameter, noCredentials, partialCredentials } from './errors';

/** The single value of a header, or undefined; throws 400 when it was sent more than once with different values. */
export function singleHeader(req: IncomingRequestData, lowerName: string): string | undefined {
  let found: string | undefined;
  for (const [k, v] of req.headers) {
    if (k.length !== lowerName.length || k.toLowerCase() !== lowerName) continue;
    if (found !== undefined && found !== v) throw invalidParameter(`the ${k} header was given more than once with different values`);
    found = v;
  }
  return found;
}

export type EndpointCredentials =
  | { kind: 'bearer'; token: string }
  | { kind: 'userpass'; email: string; password: string }
  | { kind: 'api-key'; key: string }
  | { kind: 'jwt'; token: string };

/**
 * §9.2: `Authorization: Bearer` first (other schemes are not App Services credentials and are ignored), then the
 * credential headers. Empty values count as absent. Two different credential methods in one request are refused
 * rather than guessed between.
 */
export function endpointCredentials(req: IncomingRequestData): EndpointCredentials {
  const authorization = singleHeader(req, 'authorization');
  if (authorization !== undefined) {
    const m = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization);
    if (m) return { kind: 'bearer', token: m[1] };
  }
  const email = nonEmpty(singleHeader(req, 'email'));
  const password = nonEmpty(singleHeader(req, 'password'));
  const apiKeyA = nonEmpty(singleHeader(req, 'apikey'));
  const apiKeyB = nonEmpty(singleHeader(req, 'api-key'));
  if (apiKeyA !== undefined && apiKeyB !== undefined && apiKeyA !== apiKeyB) {
    throw invalidParameter('the apiKey and api-key headers were both given, with different values');
  }
  const apiKey = apiKeyA ?? apiKeyB;
  const jwt = nonEmpty(singleHeader(req, 'jwttokenstring'));
  const methods = [email !== undefined || password !== undefined, apiKey !== undefined, jwt !== undefined].filter(Boolean).length;
  if (methods === 0) throw noCredentials();
  if (methods > 1) throw invalidParameter('more than one authentication method was specified; send exactly one');
  if (apiKey !== undefined) return { kind: 'api-key', key: apiKey };
  if (jwt !== undefined) return { kind: 'jwt', token: jwt };
  if (email === undefined || password === undefined) throw partialCredentials();
  return { kind: 'userpass', email, password };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/** The Bearer token of a client API request, or a 401 naming what is missing. */
export function bearerToken(req: IncomingRequestData): string {
  const authorization = singleHeader(req, 'authorization');
  const m = authorization === undefined ? null : /^\s*bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!m) throw new AuthError(401, 'InvalidSession', 'invalid session: must authenticate first (Authorization: Bearer <token>)');
  return m[1];
}

/** The JSON object body of a client API request ({} when there is none). */
export function jsonBody(req: IncomingRequestData): Record<string, unknown> {
  if (!req.body || req.body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength).toString('utf8'));
  } catch {
    throw badRequest('the request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest('the request body must be a JSON object');
  return parsed as Record<string, unknown>;
}

/** A field that must be a string (never an object used as a query, per policies.md). */
export function stringField(body: Record<string, unknown>, name: string, opts: { optional?: boolean } = {}): string {
  const v = body[name];
  if (v === undefined || v === null || v === '') {
    if (opts.optional) return '';
    throw invalidParameter(`expected a "${name}" field`);
  }
  if (typeof v !== 'string') throw invalidParameter(`"${name}" must be a string`);
  return v;
}

/** Go's net/http canonical header key: content-type -> Content-Type (§6.1). */
export function canonicalHeaderKey(name: string): string {
  return name
    .toLowerCase()
    .split('-')
    .map((p) => (p.length === 0 ? p : p[0].toUpperCase() + p.slice(1)))
    .join('-');
}

export function headerObject(req: IncomingRequestData): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of req.headers) {
    const key = canonicalHeaderKey(k);
    (out[key] ??= []).push(v);
  }
  return out;
}

/** The raw query string without `secret=` pairs (§6.2). */
export function queryWithoutSecret(rawQuery: string): string {
  if (!rawQuery) return '';
  return rawQuery
    .split('&')
    .filter((pair) => {
      const name = pair.split('=')[0];
      try {
        return decodeURIComponent(name.replace(/\+/g, ' ')) !== 'secret';
      } catch {
        return true;
      }
    })
    .join('&');
}

/** First value of each query parameter (§6.1), `secret` removed. */
export function queryObject(rawQuery: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(queryWithoutSecret(rawQuery))) if (!(k in out)) out[k] = v;
  return out;
}

/** §6.2 `context.request`, the value of %%request in can_evaluate. */
export function requestExpansion(req: IncomingRequestData, action: string): Record<string, unknown> {
  const headers = headerObject(req);
  const marker = '/endpoint/';
  const at = req.path.indexOf(marker);
  return {
    remoteIPAddress: req.remoteIp,
    requestHeaders: headers,
    httpMethod: req.method,
    rawQueryString: queryWithoutSecret(req.rawQuery),
    webhookUrl: at === -1 ? undefined : req.path.slice(at + marker.length - 1),
    httpReferrer: headers['Referer']?.[0],
    httpUserAgent: headers['User-Agent']?.[0],
    service: '',
    action,
  };
}
