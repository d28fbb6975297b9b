// The node:vm context an app's functions run in (one per app per worker), and the compiled-function cache.
// Each function source is compiled once into a factory `(context, console, require) => exports`: calling it per
// invocation gives every invocation its own `context` and `console` even when invocations interleave, runs the
// file's top level afresh (as App Services did), lets `exports = ...` work and leaves `module` undefined.
import vm from 'node:vm';
import type { FunctionDef } from '../app/types';
import { ErrorCode, InvocationFailure } from './errors';
import { lockdownRealm } from './lockdown';
import { SANDBOX_MEMORY_GUARDS_SOURCE } from './memory-guards';
import { transformEsmImports } from './globals/esm-imports';

export type FunctionFactory = (context: unknown, console: unknown, require: unknown) => unknown;

const USE_STRICT = /^(?:\s|\/\/[^\n]*\n|\/\*[\s\S]*?\*\/)*(['"])use strict\1/;

/** Builds the wrapper source; the user's first line stays on line 1 so stack traces keep their line numbers. */
export function wrapFunctionSource(source: string): string {
  const strict = USE_STRICT.test(source) ? '"use strict"; ' : '';
  return `(function (context, console, require) { ${strict}var exports; var module = undefined; ${source}\n;return exports;\n})`;
}

// Standard globals made read-only on the sandbox's global object after the realm is frozen.
const STANDARD_GLOBALS_SOURCE = `(function () {
  'use strict';
  const names = ['Object', 'Function', 'Array', 'Number', 'Boolean', 'String', 'Symbol', 'BigInt', 'Date', 'RegExp',
    'Error', 'EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError', 'URIError', 'AggregateError',
    'Promise', 'Proxy', 'Reflect', 'Map', 'Set', 'WeakMap', 'WeakSet', 'WeakRef', 'FinalizationRegistry',
    'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array',
    'Uint16Array', 'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
    'JSON', 'Math', 'Atomics', 'Intl', 'parseInt', 'parseFloat', 'isNaN', 'isFinite', 'decodeURI',
    'decodeURIComponent', 'encodeURI', 'encodeURIComponent', 'escape', 'unescape', 'eval', 'globalThis'];
  for (const name of names) {
    const desc = Object.getOwnPropertyDescriptor(globalThis, name);
    if (desc && desc.configurable) Object.defineProperty(globalThis, name, { value: desc.value, writable: false, enumerable: false, configurable: false });
  }
  return { Promise, Error, TypeError };
})`;

// Values reach functions from the worker's own realm too (documents from the data layer, BSON values, Buffers,
// npm modules). So that `doc.createdAt instanceof Date` or `err instanceof Error` hold for them as they did in
// App Services, the sandbox's built-in constructors also recognise instances of the worker realm's same-named ones.
const CROSS_REALM_CONSTRUCTORS = [
  'Object', 'Function', 'Array', 'Date', 'RegExp', 'Error', 'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError',
  'EvalError', 'URIError', 'AggregateError', 'Promise', 'Map', 'Set', 'WeakMap', 'WeakSet', 'ArrayBuffer', 'DataView',
  'Uint8Array', 'Int8Array', 'Uint8ClampedArray', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array', 'Boolean', 'Number', 'String',
] as const;

const CROSS_REALM_INSTANCEOF_SOURCE = `(function (hostConstructors) {
  'use strict';
  const ordinary = Function.prototype[Symbol.hasInstance];
  for (const name of Object.keys(hostConstructors)) {
    const local = globalThis[name];
    const host = hostConstructors[name];
    if (typeof local !== 'function' || local === host) continue;
    const hasInstance = {
      [Symbol.hasInstance](value) {
        if (Reflect.apply(ordinary, this, [value])) return true;
        return this === local && Reflect.apply(ordinary, host, [value]);
      },
    }[Symbol.hasInstance];
    Object.defineProperty(local, Symbol.hasInstance, { value: hasInstance, writable: false, enumerable: false, configurable: false });
  }
})`;

export interface RealmHandles {
  /** The sandbox realm's Promise.prototype: promises made by function code inherit from it. */
  promisePrototype: object;
  Error: ErrorConstructor;
  TypeError: TypeErrorConstructor;
}

export class Sandbox {
  readonly context: vm.Context;
  readonly realm: RealmHandles;
  private readonly factories = new Map<string, FunctionFactory | InvocationFailure>();

  /**
   * `globals` become read-only, non-enumerable properties of the sandbox's global object; `memoryLimitMb` sizes
   * the guards against single allocations past the heap cap (memory-guards.ts).
   */
  constructor(name: string, globals: Record<string, unknown>, memoryLimitMb: number) {
    // A null-prototype backing object: with `{}`, `globalThis.constructor` would be the worker realm's Object.
    this.context = vm.createContext(Object.create(null) as object, { name, codeGeneration: { strings: true, wasm: false } });
    const sandboxGlobal = vm.runInContext('globalThis', this.context) as object;
    for (const [key, value] of Object.entries(globals)) {
      Object.defineProperty(sandboxGlobal, key, { value, writable: false, enumerable: false, configurable: false });
    }
    Object.defineProperty(sandboxGlobal, 'global', { value: sandboxGlobal, writable: false, enumerable: false, configurable: false });
    const hostConstructors: Record<string, unknown> = {};
    for (const ctorName of CROSS_REALM_CONSTRUCTORS) hostConstructors[ctorName] = (globalThis as unknown as Record<string, unknown>)[ctorName];
    (vm.runInContext(CROSS_REALM_INSTANCEOF_SOURCE, this.context) as (ctors: Record<string, unknown>) => void)(hostConstructors);
    (vm.runInContext(SANDBOX_MEMORY_GUARDS_SOURCE, this.context) as (capMb: number) => void)(memoryLimitMb);
    const lockdown = vm.runInContext(`(${lockdownRealm.toString()})`, this.context) as typeof lockdownRealm;
    lockdown({ neuterFunctionConstructors: false, enableConstructorOverride: false });
    const handles = (vm.runInContext(STANDARD_GLOBALS_SOURCE, this.context) as () => { Promise: PromiseConstructor; Error: ErrorConstructor; TypeError: TypeErrorConstructor })();
    this.realm = { promisePrototype: handles.Promise.prototype, Error: handles.Error, TypeError: handles.TypeError };
  }

  /** The compiled factory of a function; throws InvocationFailure(FunctionSyntaxError) for a source that does not compile. */
  factoryFor(def: FunctionDef): FunctionFactory {
    let entry = this.factories.get(def.name);
    if (entry === undefined) {
      entry = this.compile(def);
      this.factories.set(def.name, entry);
    }
    if (entry instanceof InvocationFailure) throw entry;
    return entry;
  }

  /** Compiles without caching (inline sources are cached by their caller). */
  compile(def: FunctionDef): FunctionFactory | InvocationFailure {
    let script: vm.Script;
    try {
      // A file written as an ES module (`import x from "pkg"`, `export default`) is rewritten to require() first.
      const source = transformEsmImports(def.source) ?? def.source;
      script = new vm.Script(wrapFunctionSource(source), { filename: def.file });
    } catch (err) {
      const message = err !== null && typeof err === 'object' && 'message' in err ? String((err as { message: unknown }).message) : String(err);
      return new InvocationFailure(ErrorCode.FunctionSyntaxError, message);
    }
    return script.runInContext(this.context) as FunctionFactory;
  }
}
