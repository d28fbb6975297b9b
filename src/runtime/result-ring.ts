// Results travel from a worker to the main thread through shared memory first, the message only rings the bell.
// Why: a worker posts its results once per event-loop turn (batching), so a result finished just before another
// invocation blocks the worker in a loop would never be posted, and that innocent invocation would fail with its
// worker. Written here at once, it is readable by the main thread even while the worker is stuck (the pool reads
// the ring of a blocked or dead worker).
//
// A byte ring, single producer (the worker) and single consumer (the main thread): the worker appends records
// (UTF-8 text; wire.ts ResultBatch says what a record holds), then publishes the new write position; the main thread reads
// everything between its read position and the write position, then publishes its read position. Positions are
// int32 byte counters that wrap; the capacity is a power of two, so `position & (capacity - 1)` is the offset.

const WRITE = 0;
const READ = 1;
const HEADER_BYTES = 8;

export class ResultRing {
  private readonly positions: Int32Array;
  private readonly data: Buffer;
  private readonly mask: number;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.positions = new Int32Array(buffer, 0, 2);
    this.data = Buffer.from(buffer, HEADER_BYTES);
    this.mask = this.data.length - 1;
    if ((this.data.length & this.mask) !== 0) throw new RangeError('result ring capacity must be a power of two');
  }

  /** capacity: data bytes, a power of two. */
  static create(capacity: number): ResultRing {
    return new ResultRing(new SharedArrayBuffer(HEADER_BYTES + capacity));
  }

  /** Appends one record; false (nothing written) when it does not fit now. Worker side. */
  tryWrite(record: string): boolean {
    const bytes = Buffer.from(record, 'utf8');
    const write = Atomics.load(this.positions, WRITE);
    const used = (write - Atomics.load(this.positions, READ)) | 0;
    if (bytes.length > this.data.length - used) return false;
    const at = write & this.mask;
    const first = Math.min(bytes.length, this.data.length - at);
    this.data.set(bytes.subarray(0, first), at);
    if (first < bytes.length) this.data.set(bytes.subarray(first), 0);
    Atomics.store(this.positions, WRITE, (write + bytes.length) | 0);
    return true;
  }

  /** Everything written since the last call, as text, or null when nothing is new. Main-thread side. */
  drain(): string | null {
    const read = Atomics.load(this.positions, READ);
    const write = Atomics.load(this.positions, WRITE);
    const length = (write - read) | 0;
    if (length === 0) return null;
    const at = read & this.mask;
    const first = Math.min(length, this.data.length - at);
    // Copied out before decoding: a character may straddle the end of the ring.
    const bytes = Buffer.allocUnsafe(length);
    this.data.copy(bytes, 0, at, at + first);
    if (first < length) this.data.copy(bytes, first, 0, length - first);
    Atomics.store(this.positions, READ, write);
    return bytes.toString('utf8');
  }
}
