// The worker's side of the pool protocol: claims the invocations of each batch, runs them concurrently,
// and sends results back batched (one message per event-loop turn, large bodies transferred, not copied).
import type { MessagePort } from 'node:worker_threads';
import { ErrorCode, Messages, failedResult } from './errors';
import { runAs } from './async-tracking';
import type { FunctionRunner } from './function-runner';
import { InvocationState } from './invocation-state';
import type { ResultRing } from './result-ring';
import { seqBefore, type SharedState } from './shared-state';
import type { Invocation } from './types';
import { readInvocationBatch, ResultBatch, type ToWorker, type WorkerCounters, type WorkerResult } from './wire';

export class WorkerLoop {
  private readonly active = new Map<number, InvocationState>();
  private readonly outbox: ResultBatch;
  private flushScheduled = false;
  readonly counters: WorkerCounters = { lateEvents: 0, orphanErrors: 0 };

  constructor(
    private readonly port: MessagePort,
    private readonly shared: SharedState,
    ring: ResultRing,
    private readonly runner: FunctionRunner,
  ) {
    this.outbox = new ResultBatch(ring);
  }

  listen(): void {
    this.port.on('message', (msg: ToWorker) => {
      if (Array.isArray(msg)) this.runBatch(msg);
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

  /**
   * Starts the invocations of a batch one microtask apart: each one's first continuations run before the next is
   * taken, so when one loops right after an `await`, the ones behind it are still untaken and the main thread
   * runs them on another worker instead of losing them with this one.
   */
  private runBatch(items: unknown[]): void {
    const queue: Array<{ id: number; seq: number; invocation: Invocation }> = [];
    readInvocationBatch(items, (id, seq, invocation) => queue.push({ id, seq, invocation }));
    let next = 0;
    const startNext = (): void => {
      const item = queue[next++];
      // Taking the dispatch number; if the main thread took it back first, another worker runs it.
      if (seqBefore(this.shared.claimUpTo(item.seq), item.seq)) this.start(item.id, item.invocation);
      if (next < queue.length) queueMicrotask(startNext);
      else this.shared.setRunning(0);
    };
    if (queue.length > 0) startNext();
  }

  private start(id: number, invocation: Invocation): void {
    const inv = new InvocationState(id, this.countLateEvent);
    this.active.set(id, inv);
    this.shared.setRunning(id);
    const done = runAs(inv, () => this.runner.run(inv, invocation));
    if (done instanceof Promise) {
      done.then(
        (result) => this.finish(inv, result),
        (err: unknown) => this.finish(inv, failedResult({ code: ErrorCode.InternalServerError, message: String(err) }, inv.logs.lines())),
      );
    } else {
      this.finish(inv, done);
    }
  }

  private finish(inv: InvocationState, result: WorkerResult): void {
    if (inv.ended) return;
    inv.end();
    this.active.delete(inv.id);
    this.outbox.add(inv.id, result);
    // Once per turn, unlike the other direction (wire.ts POST_EVERY): posting every 16 results halved the data
    // benchmarks (e)/(f) (smaller batches of inserts and reads per worker turn, p99 up from 10 to 50-60 ms) and
    // gained nothing measurable on the hello endpoint.
    this.scheduleFlush();
  }

  private cancel(ids: number[]): void {
    for (const id of ids) {
      const inv = this.active.get(id);
      if (inv) {
        inv.end();
        this.active.delete(id);
      }
      this.outbox.cancelled(id);
    }
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flush);
  }

  private flush = (): void => {
    this.flushScheduled = false;
    if (this.outbox.empty) return;
    const { message, transfer } = this.outbox.take(this.counters);
    this.port.postMessage(message, transfer);
  };
}
