// Freezing the objects handed to every invocation (BSON, EJSON, utils, context.http, context.app, ...), so that
// one invocation cannot change what the next one sees.

const intrinsicStops = new Set<unknown>();
for (const ctor of [Object, Function, Array, Error, Promise, Map, Set, WeakMap, Date, RegExp, Uint8Array, ArrayBuffer, Number, String, Boolean, Symbol]) {
  intrinsicStops.add(ctor);
  intrinsicStops.add(ctor.prototype);
}
intrinsicStops.add(Object.getPrototypeOf(Uint8Array));
intrinsicStops.add(Object.getPrototypeOf(Uint8Array.prototype));

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype;
}

/**
 * Freezes `root` and what it exposes: nested plain objects, functions (classes) with their statics,
 * their `prototype` objects and the prototypes those inherit from (short of the built-ins).
 * Class instances found along the way are frozen themselves but not descended into: their internals
 * (an agent, a cache) are the owner's business. Typed arrays cannot be frozen and are left alone.
 */
export function freezeExposed<T>(root: T): T {
  const seen = new Set<unknown>();
  const visit = (value: unknown, descend: boolean): void => {
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return;
    if (seen.has(value) || intrinsicStops.has(value)) return;
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return;
    seen.add(value);
    Object.freeze(value);
    if (!descend) return;
    for (const key of Reflect.ownKeys(value)) {
      const desc = Object.getOwnPropertyDescriptor(value, key);
      if (!desc) continue;
      if ('value' in desc) {
        const v: unknown = desc.value;
        const isNamespace = typeof v === 'function' || (typeof v === 'object' && v !== null && isPlainObject(v));
        visit(v, isNamespace || (typeof value === 'function' && key === 'prototype'));
      } else {
        visit(desc.get, false);
        visit(desc.set, false);
      }
    }
    if (typeof value === 'function' || !isPlainObject(value)) visit(Object.getPrototypeOf(value), true);
  };
  visit(root, true);
  return root;
}

/** Deep-freezes plain data (JSON-like values): app info, environment. */
export function freezeData<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    if (ArrayBuffer.isView(value)) return value;
    Object.freeze(value);
    for (const key of Object.keys(value)) freezeData((value as Record<string, unknown>)[key]);
  }
  return value;
}
