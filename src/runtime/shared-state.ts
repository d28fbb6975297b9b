// The few words the main thread and one worker share through a SharedArrayBuffer, readable even while
// the worker is stuck in a loop (postMessage is not: a blocked worker never reads its port).
//
// - claim word: the highest dispatch number that has been taken, by the worker (it is about to run it) or by
//   the main thread (it took it back to run elsewhere). Both sides only raise it with compareExchange, so
//   every dispatched invocation is taken by exactly one side: never run twice, never lost.
// - running word: the invocation id whose code the worker is executing right now (0 = none). Read after a
//   worker died of heap exhaustion to name the invocation that was allocating.
// - heartbeat: Date.now() written by the worker every few ms; a stale value means its event loop is blocked.
// - memory word: set by the worker (to the running invocation's id) when memory outside the JavaScript heap
//   went past the cap; the pool then stops the worker as if its heap were exhausted.

const CLAIM = 0;
const RUNNING = 1;
const MEMORY = 4; // Int32 index: byte offset 16
const HEARTBEAT_F64 = 1; // Float64 index: byte offset 8

export const SHARED_STATE_BYTES = 24;

/**
 * Dispatch numbers are int32 and wrap around (a busy worker passes 2^31 in hours), so they are compared
 * modulo 2^32, like TCP sequence numbers: `a` comes before `b` when b - a is a small positive number.
 */
export function seqBefore(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export function nextSeq(seq: number): number {
  return (seq + 1) | 0;
}

export class SharedState {
  private readonly words: Int32Array;
  private readonly clock: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer, 0, 6);
    this.clock = new Float64Array(buffer, 0, 2);
  }

  static create(): SharedState {
    return new SharedState(new SharedArrayBuffer(SHARED_STATE_BYTES));
  }

  /**
   * Raises the claim word to `upTo` unless it is already there.
   * Returns the previous value: the caller owns the dispatch numbers in (previous, upTo].
   */
  claimUpTo(upTo: number): number {
    let seen = Atomics.load(this.words, CLAIM);
    while (seqBefore(seen, upTo)) {
      const before = Atomics.compareExchange(this.words, CLAIM, seen, upTo);
      if (before === seen) return seen;
      seen = before;
    }
    return seen;
  }

  claimed(): number {
    return Atomics.load(this.words, CLAIM);
  }

  setRunning(invocationId: number): void {
    Atomics.store(this.words, RUNNING, invocationId);
  }

  running(): number {
    return Atomics.load(this.words, RUNNING);
  }

  flagMemoryExceeded(invocationId: number): void {
    Atomics.store(this.words, MEMORY, invocationId === 0 ? -1 : invocationId);
  }

  /** 0 = no; -1 = yes, with no invocation running; else the id of the invocation that was running. */
  memoryExceeded(): number {
    return Atomics.load(this.words, MEMORY);
  }

  beat(now: number): void {
    this.clock[HEARTBEAT_F64] = now;
  }

  lastBeat(): number {
    return this.clock[HEARTBEAT_F64];
  }
}
