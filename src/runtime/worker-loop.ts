// The worker's side of the pool protocol: claims the invocations of each batch, runs them concurrently,
// and sends results back batched (one message per event-loop turn, large bodies transferred, not copied).
import type { MessagePort } from 'node:worker_threads';
import { ErrorCode, Messages, failedResult } from './errors';
import { invocationStorage } from './async-tracking';
import type { FunctionRunner } from './function-runner';
import { InvocationState } from './invocation-state';
import { seqBefore, type SharedState } from './shared-state';
import type { InvocationResult } from './types';
import type { DispatchedInvocation, FromWorker, ToWorker, WorkerCounters } from './wire';

/** Bodies at least this large are transferred to the main thread instead of copied. */
const TRANSFER_MIN_BYTES = 8 * 1024;

export class WorkerLoop {
  private readonly active = new Map<number, InvocationState>();
  private results: Array<{ id: number; result: InvocationResult }> = [];
  private cancelled: number[] = [];
  private transfer: ArrayBuffer[] = [];
  private flushScheduled = false;
  readonly counters: WorkerCounters = { lateEvents: 0, orphanErrors: 0 };

  constructor(
    private readonly port: MessagePort,
    private readonly shared: SharedState,
    private readonly runner: FunctionRunner,
  ) {}

  listen(): void {
    this.port.on('message', (msg: ToWorker) => {
      if (msg.t === 'run') this.runBatch(msg.items);
      else if (msg.t === 'cancel') this.cancel(msg.ids);
    });
  }

  countLateEvent = (): void => {
    this.counters.lateEvents++;
  };

  /** Fails an invocation now (e.g. too much pending async work); its code may still be running, but its result is decided. */
  fail(inv: InvocationState, code: string, message: string): void {
    this.finish(inv, failedResult({ code, message }, inv.logs.lines()));
  }

  failForOverflow = (inv: InvocationState): void => {
    // Called from inside a promise hook: defer (no promise may be created here).
    setImmediate(() => this.fail(inv, ErrorCode.FunctionExecutionError, Messages.asyncQueue));
  };

  private runBatch(items: DispatchedInvocation[]): void {
    for (const item of items) {
      // Taking the dispatch number; if the main thread took it back first, another worker runs it.
      if (!seqBefore(this.shared.claimUpTo(item.seq), item.seq)) continue;
      this.start(item);
    }
    this.shared.setRunning(0);
  }

  private start(item: DispatchedInvocation): void {
    const inv = new InvocationState(item.id, this.countLateEvent);
    this.active.set(item.id, inv);
    this.shared.setRunning(item.id);
    const done = invocationStorage.run(inv, () => this.runner.run(inv, item.inv));
    done.then(
      (result) => this.finish(inv, result),
      (err: unknown) => this.finish(inv, failedResult({ code: ErrorCode.InternalServerError, message: String(err) }, inv.logs.lines())),
    );
  }

  private finish(inv: InvocationState, result: InvocationResult): void {
    if (inv.ended) return;
    inv.end();
    this.active.delete(inv.id);
    if (result.body !== null && result.body.byteLength >= TRANSFER_MIN_BYTES && ownsWholeBuffer(result.body)) {
      this.transfer.push(result.body.buffer as ArrayBuffer);
    }
    this.results.push({ id: inv.id, result });
    this.scheduleFlush();
  }

  private cancel(ids: number[]): void {
    for (const id of ids) {
      const inv = this.active.get(id);
      if (inv) {
        inv.end();
        this.active.delete(id);
      }
      this.cancelled.push(id);
    }
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Outside any invocation's async context, so the flush is nobody's pending work.
    invocationStorage.exit(() => setImmediate(this.flush));
  }

  private flush = (): void => {
    this.flushScheduled = false;
    if (this.results.length === 0 && this.cancelled.length === 0) return;
    const msg: FromWorker = { t: 'done', results: this.results, cancelled: this.cancelled, counters: { ...this.counters } };
    const transfer = this.transfer;
    this.results = [];
    this.cancelled = [];
    this.transfer = [];
    this.port.postMessage(msg, transfer);
  };
}

function ownsWholeBuffer(bytes: Uint8Array): boolean {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && !(bytes.buffer instanceof SharedArrayBuffer);
}
