// Freezes a realm's JavaScript intrinsics (Object.prototype, Array.prototype, Promise, JSON, ...) so that one
// invocation's prototype pollution can never be seen by another (policies: "Isolation between invocations").
//
// Freezing alone breaks ordinary code through the "override mistake": with Object.prototype.toString frozen,
// `obj.toString = f` on a plain object throws in strict code. So the commonly overridden properties become
// accessors whose setter defines the property on the receiver instead (the approach of SES' lockdown).
//
// `lockdownRealm` MUST stay self-contained (no imports, no module-level names): the sandbox evaluates its source
// text inside each vm context so that it freezes that context's own intrinsics.

export interface LockdownOptions {
  /**
   * Replace `.constructor` of Function.prototype and of the async/generator function prototypes by stand-ins
   * that throw, so that `someHostFunction.constructor("return process")()` cannot compile code in the worker's
   * own realm. Only for the worker's realm; a vm context's Function is harmless (its globals are the sandbox's).
   */
  neuterFunctionConstructors: boolean;
  /**
   * Let `obj.constructor = X` define an own property (Object.prototype.constructor becomes an accessor).
   * Off for vm contexts: node's util.inspect, running in the worker's realm, then prints that realm's plain
   * objects as `Object <[Object: null prototype] {}> {...}`, which would spoil every console.log.
   */
  enableConstructorOverride: boolean;
}

export function lockdownRealm(options: LockdownOptions): void {
  'use strict';
  const realmGlobal = globalThis as unknown as Record<string, unknown>;
  const getProto = Object.getPrototypeOf;
  const defineProperty = Object.defineProperty;
  const getOwnDescriptor = Object.getOwnPropertyDescriptor;
  const ownKeys = Reflect.ownKeys;
  const hasOwn = (target: object, key: PropertyKey): boolean => Object.prototype.hasOwnProperty.call(target, key);

  const rootNames = [
    'Object', 'Function', 'Array', 'Number', 'Boolean', 'String', 'Symbol', 'BigInt', 'Date', 'RegExp',
    'Error', 'EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError', 'URIError', 'AggregateError',
    'Promise', 'Proxy', 'Reflect', 'Map', 'Set', 'WeakMap', 'WeakSet', 'WeakRef', 'FinalizationRegistry',
    'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array',
    'Uint16Array', 'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
    'JSON', 'Math', 'Atomics', 'Intl', 'parseInt', 'parseFloat', 'isNaN', 'isFinite', 'decodeURI',
    'decodeURIComponent', 'encodeURI', 'encodeURIComponent', 'escape', 'unescape', 'eval',
  ];
  const roots: unknown[] = [];
  for (const name of rootNames) if (hasOwn(realmGlobal, name)) roots.push(realmGlobal[name]);

  // Intrinsics that no global names.
  const functionPrototypes = [
    Function.prototype,
    getProto(async function () { /* probe */ }),
    getProto(function* () { /* probe */ }),
    getProto(async function* () { /* probe */ }),
  ] as object[];
  const iteratorPrototypes = [
    getProto([][Symbol.iterator]()),
    getProto(new Map()[Symbol.iterator]()),
    getProto(new Set()[Symbol.iterator]()),
    getProto(''[Symbol.iterator]()),
    getProto(/a/[Symbol.matchAll]('a')),
  ] as object[];
  const typedArray = getProto(Int8Array) as object;
  roots.push(typedArray, ...functionPrototypes, ...iteratorPrototypes);

  if (options.neuterFunctionConstructors) {
    for (const proto of functionPrototypes) {
      const original = (proto as { constructor: { name: string } }).constructor;
      const name = original.name;
      const standIn = {
        [name]: function () {
          throw new EvalError(`${name}() is not available to functions: code cannot be compiled from strings here`);
        },
      }[name];
      defineProperty(standIn, 'prototype', { value: proto, writable: false, enumerable: false, configurable: false });
      defineProperty(proto, 'constructor', { value: standIn, writable: true, enumerable: false, configurable: true });
      roots.push(standIn);
    }
  }

  // Override-mistake enablements: assignment on an instance defines an own property, as if the prototype
  // property were writable; assignment on the frozen prototype itself still fails.
  const enable = (target: object, keys: PropertyKey[]): void => {
    for (const key of keys) {
      const desc = getOwnDescriptor(target, key);
      if (!desc || !('value' in desc) || !desc.configurable) continue;
      const value: unknown = desc.value;
      defineProperty(target, key, {
        get: function () {
          return value;
        },
        set: function (this: unknown, next: unknown) {
          if (this === target) throw new TypeError(`Cannot assign to read only property '${String(key)}' of a frozen built-in`);
          if (typeof this !== 'object' && typeof this !== 'function') return;
          if (this === null) return;
          if (hasOwn(this, key)) (this as Record<PropertyKey, unknown>)[key] = next;
          else defineProperty(this, key, { value: next, writable: true, enumerable: true, configurable: true });
        },
        enumerable: desc.enumerable,
        configurable: false,
      });
    }
  };
  // Not `constructor` (except on Object.prototype): util.inspect only trusts a data-property constructor,
  // and would print arrays as `Object(2) [...]`.
  const common = ['toString', 'toLocaleString', 'valueOf'];
  const prototypesOf = (names: string[]): object[] => {
    const out: object[] = [];
    for (const name of names) {
      const ctor = realmGlobal[name] as { prototype?: unknown } | undefined;
      if (typeof ctor === 'function' && typeof ctor.prototype === 'object' && ctor.prototype !== null) out.push(ctor.prototype);
    }
    return out;
  };
  const errorPrototypes = prototypesOf(['Error', 'EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError', 'URIError', 'AggregateError']);
  for (const proto of [
    ...prototypesOf(rootNames),
    ...functionPrototypes,
    ...iteratorPrototypes,
    (typedArray as { prototype: object }).prototype,
  ]) enable(proto, common);
  if (options.enableConstructorOverride) enable(Object.prototype, ['constructor']);
  enable(Object.prototype, ['hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__']);
  enable(Array.prototype, ['push', 'concat', 'join', 'slice', 'splice', 'map', 'filter', 'forEach', 'indexOf', 'includes']);
  for (const proto of functionPrototypes) enable(proto, ['bind', 'apply', 'call', 'next', 'return', 'throw']);
  for (const proto of errorPrototypes) enable(proto, ['name', 'message']);
  // Not Promise.prototype.then, RegExp.prototype.exec, the iterators' `next` or %IteratorPrototype%[@@iterator]:
  // V8 keeps fast paths for `await`, regular expressions and spread/for-of only while these stay data properties
  // of their prototypes (its "protectors", one per thread, so the sandbox realm's lockdown counted for the worker's
  // own code too). As accessors they made every worker slower: a find returning 10 documents ran at 12k/s instead
  // of 16-17k/s (most of it BSON decoding's `String.fromCharCode(...bytes)`). Assigning them on an instance (which
  // almost no code does) therefore fails like any frozen property.
  enable(Promise.prototype, ['catch', 'finally']);

  // Error.stackTraceLimit and Error.prepareStackTrace stay writable: libraries (e.g. `bindings`, `depd`) set them.
  const lenient = new Map<unknown, string[]>([[realmGlobal.Error, ['stackTraceLimit', 'prepareStackTrace']]]);
  // `constructor` stays a writable data property (the objects become non-extensible, not frozen) on the error and
  // function prototypes: npm code subclasses the old way (`Sub.prototype = Object.create(Error.prototype);
  // Sub.prototype.constructor = Sub`, axios' AxiosError) and copies `constructor` onto functions (axios' instance),
  // which the override mistake breaks. An accessor would not do: util.inspect then prints errors as `{}`.
  const lenientPrototypes = new Set<unknown>();
  if (options.enableConstructorOverride) {
    for (const proto of [...errorPrototypes, ...functionPrototypes]) {
      lenient.set(proto, ['constructor']);
      lenientPrototypes.add(proto);
    }
  }

  const seen = new Set<unknown>();
  const stack: unknown[] = roots.slice();
  while (stack.length > 0) {
    const item = stack.pop();
    if ((typeof item !== 'object' && typeof item !== 'function') || item === null || seen.has(item)) continue;
    if (item === realmGlobal) continue;
    seen.add(item);
    const keepWritable = lenient.get(item);
    for (const key of ownKeys(item)) {
      const desc = getOwnDescriptor(item, key);
      if (!desc) continue;
      if ('value' in desc) stack.push(desc.value);
      else stack.push(desc.get, desc.set);
      if (keepWritable) {
        if (keepWritable.includes(key as string)) {
          // Writable, but it cannot be redefined (e.g. into an accessor) or deleted.
          if (lenientPrototypes.has(item) && desc.configurable && 'value' in desc) {
            defineProperty(item, key, { value: desc.value, writable: true, enumerable: desc.enumerable, configurable: false });
          }
          continue;
        }
        if (desc.configurable) {
          if ('value' in desc) defineProperty(item, key, { value: desc.value, writable: false, enumerable: desc.enumerable, configurable: false });
          else defineProperty(item, key, { get: desc.get, set: desc.set, enumerable: desc.enumerable, configurable: false });
        }
      }
    }
    stack.push(getProto(item));
    if (!keepWritable) Object.freeze(item);
    else if (lenientPrototypes.has(item)) Object.preventExtensions(item);
  }
}
