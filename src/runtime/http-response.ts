// §7.1: the response object an endpoint function receives as its second argument; the same class is the
// `HTTPResponse` global. Chainable setters; what a function sets is checked here, so that nothing it
// sets can be injected into the HTTP response (policies "HTTP edges").

/** Raw body as set by setBody, before encoding: a string (sent as UTF-8) or bytes. */
export type ResponseBody = string | Uint8Array;

export interface ResponseState {
  status: number | undefined;
  /** undefined until setBody is called. */
  body: ResponseBody | undefined;
  /** Lower-cased name -> name as first set + values in order. */
  headers: Map<string, { name: string; values: string[] }>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const CR_LF_NUL = /[\r\n\0]/;
// What node:http accepts in a header value: tab, visible ASCII, space, and latin-1 (obs-text).
const INVALID_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

let readState: (response: HTTPResponse) => ResponseState;

export class HTTPResponse {
  #state: ResponseState = { status: undefined, body: undefined, headers: new Map() };

  static {
    readState = (response) => response.#state;
  }

  setStatusCode(code: unknown): this {
    this.#state.status = checkStatus(code);
    return this;
  }

  setBody(body: unknown): this {
    this.#state.body = toBody(body);
    return this;
  }

  setHeader(name: unknown, value: unknown): this {
    const headerName = checkHeaderName(name);
    this.#state.headers.set(headerName.toLowerCase(), { name: headerName, values: [checkHeaderValue(headerName, value)] });
    return this;
  }

  addHeader(name: unknown, value: unknown): this {
    const headerName = checkHeaderName(name);
    const checked = checkHeaderValue(headerName, value);
    const entry = this.#state.headers.get(headerName.toLowerCase());
    if (entry) entry.values.push(checked);
    else this.#state.headers.set(headerName.toLowerCase(), { name: headerName, values: [checked] });
    return this;
  }
}
Object.freeze(HTTPResponse);
Object.freeze(HTTPResponse.prototype);

/** The state of a response object, or undefined when `value` is not one. */
export function responseState(value: unknown): ResponseState | undefined {
  return value instanceof HTTPResponse ? readState(value) : undefined;
}

function checkStatus(code: unknown): number {
  const n = typeof code === 'string' && /^\d{3}$/.test(code) ? Number(code) : code;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 200 || n > 599) {
    throw new TypeError(`setStatusCode: status code must be an integer from 200 to 599, got ${describe(code)}`);
  }
  return n;
}

function checkHeaderName(name: unknown): string {
  if (typeof name !== 'string') throw new TypeError(`header name must be a string, got ${describe(name)}`);
  if (CR_LF_NUL.test(name)) throw new TypeError(`header name ${JSON.stringify(name)} contains CR, LF or NUL`);
  if (!TOKEN.test(name)) throw new TypeError(`header name ${JSON.stringify(name)} is not a valid HTTP header name`);
  return name;
}

function checkHeaderValue(name: string, value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  if (CR_LF_NUL.test(text)) throw new TypeError(`value of header "${name}" contains CR, LF or NUL`);
  if (INVALID_VALUE_CHAR.test(text)) throw new TypeError(`value of header "${name}" contains characters that cannot be sent in an HTTP header`);
  return text;
}

function toBody(body: unknown): ResponseBody {
  if (typeof body === 'string') return body;
  if (body === undefined || body === null) return '';
  if (typeof body === 'number' || typeof body === 'boolean' || typeof body === 'bigint') return String(body);
  if (body instanceof Uint8Array) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
  if (body instanceof ArrayBuffer) return new Uint8Array(body.slice(0));
  if (typeof body === 'object' && (body as { _bsontype?: unknown })._bsontype === 'Binary') {
    const value = (body as { value?: unknown }).value;
    if (typeof value === 'function') {
      const bytes: unknown = (value as () => unknown).call(body);
      if (bytes instanceof Uint8Array) return new Uint8Array(bytes);
    }
  }
  throw new TypeError(`setBody: body must be a string or a BSON.Binary, got ${describe(body)} (use JSON.stringify to send an object)`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  return `${typeof value} ${String(value)}`;
}
