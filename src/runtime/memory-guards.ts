// The worker's heap cap (resourceLimits) stops allocations made a little at a time: the worker dies cleanly and
// the pool answers "memory limit of N MB exceeded". Two kinds of allocation escape it:
// - memory outside the JavaScript heap (Buffers, ArrayBuffers): not counted by the cap at all;
// - one single allocation past the cap (a 2 GB array backing store, a huge Map rehash): V8 cannot stop the
//   worker cleanly and aborts the whole process.
// These guards refuse such allocations up front with the same message, so the invocation fails alone.
import { setFlagsFromString, getHeapStatistics } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Only allocations at least this large are checked against the cap (smaller ones are counted by the heap cap). */
const CHECK_FROM_BYTES = 1024 * 1024;

export function memoryLimitMessage(capMb: number): string {
  return `memory limit of ${capMb} MB exceeded`;
}

let collectGarbage: (() => void) | null | undefined;

/** A full GC, to tell garbage from live memory before refusing an allocation. */
function gcOnce(): void {
  if (collectGarbage === undefined) {
    try {
      // Exposed for one throw-away context only, then hidden again: no sandbox created later sees `gc`.
      setFlagsFromString('--expose-gc');
      collectGarbage = runInNewContext('gc') as () => void;
    } catch {
      collectGarbage = null;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  }
  collectGarbage?.();
}

export class MemoryGuard {
  readonly capBytes: number;

  constructor(readonly capMb: number) {
    this.capBytes = capMb * 1024 * 1024;
  }

  /** Memory outside the JavaScript heap (ArrayBuffer backing stores) now in use. */
  externalBytes(): number {
    return getHeapStatistics().external_memory;
  }

  /** Throws RangeError when an allocation of `bytes` outside the heap would pass the cap. */
  checkExternal(bytes: number): void {
    if (!(bytes >= CHECK_FROM_BYTES)) return;
    if (this.externalBytes() + bytes <= this.capBytes) return;
    gcOnce();
    if (this.externalBytes() + bytes > this.capBytes) throw new RangeError(memoryLimitMessage(this.capMb));
  }

  /** For the heartbeat: is memory outside the heap past the cap even after a GC? */
  externalOverCap(): boolean {
    if (this.externalBytes() <= this.capBytes) return false;
    gcOnce();
    return this.externalBytes() > this.capBytes;
  }

  /** Makes Buffer's allocating statics check the cap first. Call before Buffer is frozen. */
  guardBuffer(buffer: typeof Buffer): void {
    const guard = this;
    const wrap = (name: 'alloc' | 'allocUnsafe' | 'allocUnsafeSlow'): void => {
      const original = buffer[name] as (size: number, ...rest: unknown[]) => Buffer;
      const guarded = {
        [name](size: number, ...rest: unknown[]): Buffer {
          guard.checkExternal(size);
          return Reflect.apply(original, buffer, [size, ...rest]) as Buffer;
        },
      }[name];
      Object.defineProperty(buffer, name, { value: guarded, writable: true, enumerable: true, configurable: true });
    };
    wrap('alloc');
    wrap('allocUnsafe');
    wrap('allocUnsafeSlow');
    const concat = buffer.concat;
    Object.defineProperty(buffer, 'concat', {
      value: function concatGuarded(list: readonly Uint8Array[], totalLength?: number): Buffer {
        let total = totalLength;
        if (total === undefined && Array.isArray(list)) {
          total = 0;
          for (const item of list) total += item?.length ?? 0;
        }
        guard.checkExternal(total ?? 0);
        return Reflect.apply(concat, buffer, [list, totalLength]) as Buffer;
      },
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
}

/**
 * Evaluated inside a sandbox before it is frozen: Array.prototype.fill and Array.from refuse lengths whose backing
 * store (8 bytes per element) would take half the cap, Map/Set refuse to grow to sizes whose rehash (about 28
 * bytes per slot, twice the entries, old and new table together) could not fit, with the same message.
 */
export const SANDBOX_MEMORY_GUARDS_SOURCE = `(function (capMb) {
  'use strict';
  const capBytes = capMb * 1024 * 1024;
  const maxElements = Math.floor(capBytes / 16);
  const maxEntries = Math.floor(capBytes / 128);
  const fail = () => { throw new RangeError('memory limit of ' + capMb + ' MB exceeded'); };
  const define = (target, name, value) => Object.defineProperty(target, name, { value, writable: true, enumerable: false, configurable: true });
  const fill = Array.prototype.fill;
  define(Array.prototype, 'fill', { fill(value, start, end) {
    if (this !== null && this !== undefined && Number(this.length) > maxElements) fail();
    return Reflect.apply(fill, this, arguments);
  } }.fill);
  const from = Array.from;
  define(Array, 'from', { from(items, mapFn, thisArg) {
    if (items !== null && typeof items === 'object' && typeof items[Symbol.iterator] !== 'function' && Number(items.length) > maxElements) fail();
    return Reflect.apply(from, this, arguments);
  } }.from);
  const mapSet = Map.prototype.set;
  const mapHas = Map.prototype.has;
  const mapSize = Object.getOwnPropertyDescriptor(Map.prototype, 'size').get;
  define(Map.prototype, 'set', { set(key, value) {
    if (Reflect.apply(mapSize, this, []) >= maxEntries && !Reflect.apply(mapHas, this, [key])) fail();
    return Reflect.apply(mapSet, this, [key, value]);
  } }.set);
  const setAdd = Set.prototype.add;
  const setHas = Set.prototype.has;
  const setSize = Object.getOwnPropertyDescriptor(Set.prototype, 'size').get;
  define(Set.prototype, 'add', { add(value) {
    if (Reflect.apply(setSize, this, []) >= maxEntries && !Reflect.apply(setHas, this, [value])) fail();
    return Reflect.apply(setAdd, this, [value]);
  } }.add);
})`;
