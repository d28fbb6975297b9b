// Node built-in modules as functions see them (policies "What a function can reach").
// A function gets a frozen view of a module, never the module object itself, so `require("crypto").createHash = f`
// in one invocation cannot change what the next one (or the server) sees. Servers, process control and the
// ability to slow the process down (`os.setPriority`) are left out.
//
// Known limit: classes reached through a module (EventEmitter.prototype, stream prototypes, ...) are Node's own
// and stay mutable; freezing them breaks Node itself (instance assignments to prototype-shadowed fields).

/** Modules handed out as frozen views, with the members to leave out. */
const ALLOWED: Record<string, readonly string[]> = {
  assert: [],
  'assert/strict': [],
  buffer: [],
  crypto: [],
  dns: [],
  'dns/promises': [],
  events: [],
  path: [],
  'path/posix': [],
  'path/win32': [],
  punycode: [],
  querystring: [],
  stream: [],
  'stream/consumers': [],
  'stream/promises': [],
  'stream/web': [],
  string_decoder: [],
  timers: [],
  'timers/promises': [],
  url: [],
  util: [],
  'util/types': [],
  zlib: [],
  os: ['setPriority'],
  // Clients only.
  http: ['createServer', 'Server', '_connectionListener'],
  https: ['createServer', 'Server'],
  http2: ['createServer', 'createSecureServer', 'Http2ServerRequest', 'Http2ServerResponse'],
  net: ['createServer', 'Server'],
  tls: ['createServer', 'Server'],
};

/** `tty`: App Services listed it; only the harmless predicate is kept. */
const PARTIAL: Record<string, readonly string[]> = {
  tty: ['isatty'],
};

/** Bare module name: `node:fs` -> `fs`. */
export function bareBuiltinName(id: string): string {
  return id.startsWith('node:') ? id.slice(5) : id;
}

export function isAllowedBuiltin(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(ALLOWED, name) || Object.prototype.hasOwnProperty.call(PARTIAL, name);
}

function isPlainNamespace(v: unknown): v is object {
  if (v === null || typeof v !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === null || proto === Object.prototype;
}

/**
 * A frozen copy of a namespace object: same property descriptors, nested plain namespaces copied too
 * (`path.posix`, `util.types`, `dns.promises`), functions and class instances shared as they are.
 */
function frozenNamespace(src: object, omit: readonly string[], seen: Map<object, object>): object {
  const existing = seen.get(src);
  if (existing) return existing;
  const out: Record<PropertyKey, unknown> = Object.create(Object.getPrototypeOf(src) === null ? null : Object.prototype);
  seen.set(src, out);
  for (const key of Reflect.ownKeys(src)) {
    if (typeof key === 'string' && omit.includes(key)) continue;
    const d = Object.getOwnPropertyDescriptor(src, key)!;
    if ('value' in d && isPlainNamespace(d.value)) d.value = frozenNamespace(d.value, [], seen);
    d.configurable = false;
    if ('value' in d) d.writable = false;
    Object.defineProperty(out, key, d);
  }
  return Object.freeze(out);
}

/**
 * Function-valued modules (assert, events, stream): a frozen stand-in. Callable ones stay callable; classes can
 * still be extended and `instanceof` still holds, but the stand-in's statics and own prototype cannot be changed.
 */
function frozenFunctionModule(real: Function, name: string): Function {
  const isClass = name === 'events' || name === 'stream';
  const standIn: Function = isClass
    ? (class extends (real as new (...a: unknown[]) => object) {})
    : function (this: unknown, ...args: unknown[]): unknown {
        return real.apply(this, args);
      };
  Object.defineProperty(standIn, 'name', { value: real.name });
  for (const key of Reflect.ownKeys(real)) {
    if (key === 'prototype' || key === 'length' || key === 'name') continue;
    const d = Object.getOwnPropertyDescriptor(real, key)!;
    // Self references (`events.EventEmitter === events`) point at the stand-in.
    if ('value' in d && d.value === real) d.value = standIn;
    else if ('value' in d && isPlainNamespace(d.value)) d.value = frozenNamespace(d.value, [], new Map());
    d.configurable = false;
    if ('value' in d) d.writable = false;
    Object.defineProperty(standIn, key, d);
  }
  if (isClass) Object.freeze(standIn.prototype);
  return Object.freeze(standIn);
}

/** The frozen view of allowed built-in `name` (bare name), loaded from Node. */
export function builtinView(name: string): unknown {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const real: unknown = require(`node:${name}`);
  const keep = PARTIAL[name];
  if (keep) {
    const out: Record<string, unknown> = {};
    for (const k of keep) out[k] = (real as Record<string, unknown>)[k];
    return Object.freeze(out);
  }
  if (typeof real === 'function') return frozenFunctionModule(real, name);
  return frozenNamespace(real as object, ALLOWED[name] ?? [], new Map());
}
