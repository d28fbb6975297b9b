// The function worker pool (DESIGN "Processes and threads"): the main thread hands invocations to worker
// threads and keeps every invocation's deadline itself, so a function stuck in a loop or eating its heap
// costs that invocation, never the server or the other invocations:
// - dispatch goes to the least-loaded worker whose heartbeat is fresh (a blocked worker is avoided);
// - invocations queued on a blocked worker that has not started them are taken back and run elsewhere;
// - past a deadline, an idle culprit is just cancelled; a culprit that blocks its worker gets the worker
//   terminated and replaced; what that worker had started answers an error, what it had not is re-run;
// - a booted spare worker replaces a dead one at once, and takes over when every working worker is blocked.
import type { AppDefinition } from '../app/types';
import { ErrorCode, Messages, failedResult } from './errors';
import type { Invocation, InvocationResult, RuntimeOptions } from './types';
import { POST_EVERY, readResultBatch, readRingResults, type ResultMessage, type WorkerCounters } from './wire';
import { WorkerSlot, type ExitCause, type Pending, type SlotBoot } from './worker-slot';

/** A worker whose heartbeat is older than this is considered blocked (it beats every 10 ms). */
const STALE_MS = 50;
/** Invocations queued on a worker blocked for this long move to another worker. */
const STEAL_AFTER_MS = 100;
/** A worker must acknowledge a cancellation this fast, or it is considered stuck and terminated. */
const CANCEL_GRACE_MS = 100;
const WATCHDOG_MS = 20;
const MAX_RESPAWN_DELAY_MS = 5000;

export interface PoolOptions extends RuntimeOptions {
  /** Directory whose node_modules holds the app's npm dependencies (ensureDependencies), or null. */
  dependenciesDir: string | null;
  /**
   * Lines the worker threads wrote to stdout/stderr (npm libraries; never function console output), and the
   * pool's diagnostics about workers (worker errors, boot failures). Default: diagnostics go to stderr, the rest
   * is dropped.
   */
  onWorkerOutput?: (line: string) => void;
  /**
   * Booted workers kept idle to replace a worker that dies or is stopped at once (default 1): booting one takes
   * 0.2-0.5 s, during which the pool would run with one worker less.
   */
  spareWorkers?: number;
  /**
   * Freeze the JavaScript intrinsics of the worker threads' own realm (default true), so that prototype
   * pollution through host objects (BSON values, Buffers, data-layer results) cannot leak between invocations.
   * Turn off only for an npm dependency that must patch built-ins.
   */
  freezeIntrinsics?: boolean;
}

export interface PoolStats {
  workers: number;
  /** Invocations the deadline queue still holds (answered ones are dropped as they settle). */
  trackedDeadlines: number;
  /** Workers replaced after a crash, heap exhaustion or a deadline. */
  restarts: number;
  timeouts: number;
  /** Console lines / errors that arrived after their invocation had ended (summed over live workers). */
  lateEvents: number;
  /** Uncaught errors that could not be tied to an invocation (summed over live workers). */
  orphanErrors: number;
}

function answered(): void {
  /* an invocation is answered once */
}

export class FunctionPool {
  private readonly boot: SlotBoot;
  /** Workers that take invocations. */
  private slots: WorkerSlot[] = [];
  /** Booted (or booting) workers held in reserve. */
  private spares: WorkerSlot[] = [];
  private readonly pending = new Map<number, Pending>();
  /** Accepted while no worker was ready. */
  private waiting: Pending[] = [];
  /** Unsettled invocations in deadline order (the timeout is the same for all, so arrival order). */
  private deadlines: Pending[] = [];
  private deadlineHead = 0;
  /** Settled invocations still in `deadlines` behind an unsettled head (see forgetSettledDeadlines). */
  private settledBehindHead = 0;
  private deadlineTimer: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private flushScheduled = false;
  private nextId = 1;
  private started = false;
  private closing = false;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  private bootFailure: string | null = null;
  private consecutiveBootFailures = 0;
  private readonly slotCounters = new Map<WorkerSlot, WorkerCounters>();
  private readonly totals = { restarts: 0, timeouts: 0, lateEvents: 0, orphanErrors: 0 };
  private startWaiter: { resolve(): void; reject(err: Error): void } | null = null;

  constructor(app: AppDefinition, private readonly opts: PoolOptions) {
    if (!Number.isInteger(opts.workers) || opts.workers < 1) throw new RangeError('workers must be an integer >= 1');
    if (!(opts.functionTimeoutMs > 0)) throw new RangeError('functionTimeoutMs must be > 0');
    if (!Number.isInteger(opts.maxHeapMb) || opts.maxHeapMb < 16) throw new RangeError('maxHeapMb must be an integer >= 16');
    if (opts.spareWorkers !== undefined && (!Number.isInteger(opts.spareWorkers) || opts.spareWorkers < 0)) {
      throw new RangeError('spareWorkers must be an integer >= 0');
    }
    this.boot = {
      app,
      dataDir: opts.dataDir,
      mongodbUris: opts.mongodbUris,
      dependenciesDir: opts.dependenciesDir,
      maxHeapMb: opts.maxHeapMb,
      freezeIntrinsics: opts.freezeIntrinsics ?? true,
      deployedAt: new Date().toISOString(),
    };
  }

  /** Spawns the workers; resolves when all are ready, rejects if one cannot boot. */
  start(): Promise<void> {
    if (this.started) throw new Error('FunctionPool.start() called twice');
    this.started = true;
    const ready = new Promise<void>((resolve, reject) => {
      this.startWaiter = { resolve, reject };
    });
    try {
      for (let i = 0; i < this.opts.workers; i++) this.spawn(false);
      for (let i = 0; i < (this.opts.spareWorkers ?? 1); i++) this.spawn(true);
    } catch (err) {
      // e.g. the app definition cannot be handed to a thread (structured clone)
      this.failStart(err instanceof Error ? err.message : String(err));
      return ready;
    }
    this.watchdog = setInterval(() => this.checkWorkers(), WATCHDOG_MS);
    this.watchdog.unref();
    return ready;
  }

  /** Runs an invocation. Never rejects: every failure comes back as `result.error`. */
  invoke(inv: Invocation): Promise<InvocationResult> {
    if (this.closing) return Promise.resolve(failedResult({ code: ErrorCode.InternalServerError, message: Messages.shuttingDown }));
    return new Promise<InvocationResult>((resolve) => {
      const p: Pending = { id: this.takeId(), inv, deadline: Date.now() + this.opts.functionTimeoutMs, settled: false, resolve, slot: null, seq: 0 };
      this.pending.set(p.id, p);
      this.deadlines.push(p);
      this.armDeadlineTimer();
      this.dispatch(p);
    });
  }

  /** Invocations accepted and not answered yet. */
  inFlight(): number {
    return this.pending.size;
  }

  stats(): PoolStats {
    let lateEvents = this.totals.lateEvents;
    let orphanErrors = this.totals.orphanErrors;
    for (const c of this.slotCounters.values()) {
      lateEvents += c.lateEvents;
      orphanErrors += c.orphanErrors;
    }
    return {
      workers: this.slots.filter((s) => s.state === 'ready').length,
      trackedDeadlines: this.deadlines.length - this.deadlineHead,
      restarts: this.totals.restarts,
      timeouts: this.totals.timeouts,
      lateEvents,
      orphanErrors,
    };
  }

  /** Stops accepting, waits for the in-flight invocations (each bounded by its deadline), then stops the workers. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.pending.size > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.closed = true;
    if (this.watchdog) clearInterval(this.watchdog);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    const slots = [...this.slots, ...this.spares];
    this.slots = [];
    this.spares = [];
    await Promise.all(slots.map((s) => s.stop()));
  }

  // ---- dispatch ----

  private takeId(): number {
    const id = this.nextId;
    // Ids live in an int32 shared word; wrap long before any clash with a still-pending id.
    this.nextId = id >= 0x7ffffffe ? 1 : id + 1;
    return id;
  }

  private dispatch(p: Pending): void {
    const slot = this.pickSlot(null);
    if (!slot) {
      if (this.bootFailure !== null) {
        this.settle(p, failedResult({ code: ErrorCode.InternalServerError, message: Messages.cannotStart(this.bootFailure) }));
        return;
      }
      this.waiting.push(p);
      return;
    }
    if (!this.assignTo(slot, p)) return;
    // Post a full batch at once rather than at the end of the turn, so the worker starts on it while this thread
    // is still reading the rest of the requests (see POST_EVERY).
    if (slot.queued() >= POST_EVERY) slot.flush();
    else this.scheduleFlush();
  }

  /** Least-loaded ready worker, preferring those whose heartbeat is fresh. */
  private pickSlot(exclude: WorkerSlot | null): WorkerSlot | null {
    const now = Date.now();
    let best: WorkerSlot | null = null;
    let bestFresh = false;
    for (const slot of this.slots) {
      if (slot.state !== 'ready' || slot === exclude) continue;
      const fresh = slot.heartbeatAge(now) <= STALE_MS;
      if (best === null || (fresh && !bestFresh) || (fresh === bestFresh && slot.load() < best.load())) {
        best = slot;
        bestFresh = fresh;
      }
    }
    return best;
  }

  private redispatch(items: Pending[], avoid: WorkerSlot | null): void {
    for (const p of items) {
      if (p.settled) continue;
      const slot = this.pickSlot(avoid) ?? this.pickSlot(null);
      if (!slot) {
        this.waiting.push(p);
        continue;
      }
      this.assignTo(slot, p);
    }
    this.scheduleFlush();
  }

  /** Queues an invocation on a worker; one that cannot be encoded is answered with an error instead (false). */
  private assignTo(slot: WorkerSlot, p: Pending): boolean {
    try {
      slot.assign(p);
      return true;
    } catch (err) {
      this.settle(p, failedResult({ code: ErrorCode.InternalServerError, message: `invalid invocation: ${err instanceof Error ? err.message : String(err)}` }));
      return false;
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      for (const slot of this.slots) slot.flush();
    });
  }

  private settle(p: Pending, result: InvocationResult): void {
    if (p.settled) return;
    p.settled = true;
    this.pending.delete(p.id);
    this.forgetSettledDeadlines();
    const resolve = p.resolve;
    // The deadline queue may hold a settled entry a while (behind a slower one): it must not keep the request,
    // and through `resolve` the HTTP exchange, alive that long (they were being promoted to the old generation).
    p.inv = null;
    p.resolve = answered;
    resolve(result);
    if (this.pending.size === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  // ---- deadlines ----

  /**
   * Drops settled invocations from the deadline queue as they settle. The deadline timer only looks at the queue
   * when the oldest deadline is due (300 s by default), so without this every answered invocation (its request,
   * and the HTTP objects its promise holds) stayed in memory for the whole time limit.
   */
  private forgetSettledDeadlines(): void {
    const queue = this.deadlines;
    while (this.deadlineHead < queue.length && queue[this.deadlineHead].settled) this.deadlineHead++;
    if (this.deadlineHead === queue.length) {
      queue.length = 0;
      this.deadlineHead = 0;
      this.settledBehindHead = 0;
      return;
    }
    // A slow invocation at the head keeps later, already settled ones queued: compact once they are the majority.
    if (++this.settledBehindHead > 1024 && this.settledBehindHead * 2 > queue.length - this.deadlineHead) {
      this.deadlines = queue.slice(this.deadlineHead).filter((q) => !q.settled);
      this.deadlineHead = 0;
      this.settledBehindHead = 0;
    }
  }

  private armDeadlineTimer(): void {
    if (this.deadlineTimer !== null || this.deadlineHead >= this.deadlines.length) return;
    const delay = Math.max(1, this.deadlines[this.deadlineHead].deadline - Date.now());
    this.deadlineTimer = setTimeout(() => this.onDeadlineTimer(), delay);
    this.deadlineTimer.unref();
  }

  private onDeadlineTimer(): void {
    this.deadlineTimer = null;
    const now = Date.now();
    while (this.deadlineHead < this.deadlines.length) {
      const p = this.deadlines[this.deadlineHead];
      if (!p.settled && p.deadline > now) break;
      this.deadlineHead++;
      if (!p.settled) this.expire(p, now);
    }
    if (this.deadlineHead > 1024 && this.deadlineHead * 2 > this.deadlines.length) {
      this.deadlines = this.deadlines.slice(this.deadlineHead);
      this.deadlineHead = 0;
      this.settledBehindHead = 0;
    }
    this.armDeadlineTimer();
  }

  private expire(p: Pending, now: number): void {
    this.totals.timeouts++;
    this.settle(p, failedResult({ code: ErrorCode.ExecutionTimeLimitExceeded, message: Messages.timeLimit }));
    const slot = p.slot;
    if (slot === null || slot.state !== 'ready') return; // waiting for a worker, or its worker is going away anyway
    if (!slot.isStarted(p)) {
      // It never started: the worker is busy with something else. Move its queue along.
      this.redispatch(slot.reclaimUnstarted(), slot);
      return;
    }
    if (slot.shared.running() === p.id && slot.heartbeatAge(now) > STALE_MS) {
      this.stopSlot(slot); // its code is running right now and blocking the worker
    } else {
      // It is waiting on something (or another invocation's code holds the worker for a moment): drop it.
      // The worker must confirm within the grace period, or it is considered stuck and stopped.
      slot.cancel(p.id, now + CANCEL_GRACE_MS);
      this.scheduleFlush();
    }
  }

  /** Runs every WATCHDOG_MS: terminates stuck workers, moves invocations off blocked ones, adjusts the spare. */
  private checkWorkers(): void {
    const now = Date.now();
    for (const slot of this.slots) {
      if (slot.state !== 'ready') continue;
      // A cancellation not confirmed in time, while the worker's event loop is blocked: it is stuck in code.
      // (With a fresh heartbeat the confirmation is merely queued behind other messages.)
      if (slot.heartbeatAge(now) > STALE_MS) {
        for (const ackBy of slot.cancelAckBy.values()) {
          if (ackBy <= now) {
            this.stopSlot(slot);
            break;
          }
        }
      }
    }
    for (const slot of this.slots) {
      if (slot.state === 'ready' && slot.shared.memoryExceeded() !== 0) {
        slot.markOutOfMemory();
        this.stopSlot(slot);
      }
    }
    const ready = this.slots.filter((s) => s.state === 'ready');
    const blocked = ready.filter((s) => s.heartbeatAge(now) > STEAL_AFTER_MS);
    // A blocked worker cannot post what it finished before blocking: read it from its ring.
    for (const slot of blocked) this.readRing(slot);
    // Every working worker blocked (e.g. the only one runs a loop until its deadline): bring a spare into service.
    if (ready.length > 0 && blocked.length === ready.length && (blocked.some((s) => s.hasUnstarted()) || this.waiting.length > 0)) {
      if (this.promoteSpare()) this.spawn(true);
    }
    // Invocations queued on a blocked worker move to a free one.
    for (const slot of blocked) {
      if (slot.state === 'ready' && slot.hasUnstarted() && this.pickSlot(slot) !== null) this.redispatch(slot.reclaimUnstarted(), slot);
    }
    // A worker too many (brought in while another was blocked, which has recovered): back to being a spare, or
    // retired, once idle.
    if (this.slots.length > this.opts.workers && ready.every((s) => s.heartbeatAge(now) <= STALE_MS)) {
      const idle = ready.find((s) => s.load() === 0);
      if (idle) {
        this.slots = this.slots.filter((s) => s !== idle);
        if (this.spares.length < (this.opts.spareWorkers ?? 1)) {
          this.spares.push(idle);
        } else {
          idle.retired = true;
          this.stopSlot(idle);
        }
      }
    }
  }

  // ---- workers ----

  private spawn(spare: boolean): void {
    const slot = new WorkerSlot(this.boot, this.opts.maxHeapMb, {
      ready: (s) => this.onReady(s),
      bootFailed: (s, message) => this.onBootFailed(s, message),
      message: (s, msg) => this.onMessage(s, msg),
      exit: (s, cause) => this.onExit(s, cause),
      output: (line) => this.opts.onWorkerOutput?.(line),
      diagnostic: (line) => this.diagnostic(line),
    });
    (spare ? this.spares : this.slots).push(slot);
  }

  private stopSlot(slot: WorkerSlot): void {
    if (slot.state === 'stopping' || slot.state === 'dead') return;
    void slot.stop();
  }

  private onReady(slot: WorkerSlot): void {
    this.consecutiveBootFailures = 0;
    this.bootFailure = null;
    if (this.spares.includes(slot)) {
      // A spare is needed right away when the pool has fewer working workers than asked for.
      if (this.slots.length < this.opts.workers) this.promoteSpare();
      return;
    }
    if (this.startWaiter && this.slots.every((s) => s.state === 'ready')) {
      this.startWaiter.resolve();
      this.startWaiter = null;
    }
    if (this.waiting.length > 0) {
      const waiting = this.waiting;
      this.waiting = [];
      this.redispatch(waiting, null);
    }
    void slot;
  }

  private onBootFailed(slot: WorkerSlot, message: string): void {
    this.bootFailure = message.split('\n')[0];
    this.diagnostic(`function worker failed to start: ${message}`);
    if (this.startWaiter) this.failStart(message);
    this.stopSlot(slot);
    if (!this.slots.some((s) => s.state === 'ready')) this.failWaiting();
  }

  /** Answers the invocations whose results a worker wrote to its result ring. */
  private readRing(slot: WorkerSlot): void {
    const text = slot.ring.drain();
    if (text === null) return;
    for (const { id, result } of readRingResults(text)) this.deliver(slot, id, result);
  }

  private deliver(slot: WorkerSlot, id: number, result: InvocationResult): void {
    const p = slot.assigned.get(id);
    if (!p) return;
    slot.assigned.delete(id);
    this.settle(p, result);
  }

  private onMessage(slot: WorkerSlot, msg: ResultMessage): void {
    this.readRing(slot);
    const batch = readResultBatch(msg);
    for (const { id, result } of batch.results) this.deliver(slot, id, result);
    for (const id of batch.cancelled) {
      slot.cancelAckBy.delete(id);
      slot.assigned.delete(id);
    }
    this.slotCounters.set(slot, batch.counters);
  }

  private onExit(slot: WorkerSlot, cause: ExitCause): void {
    const wasSpare = this.spares.includes(slot);
    this.spares = this.spares.filter((s) => s !== slot);
    this.slots = this.slots.filter((s) => s !== slot);
    for (const msg of slot.drainMessages()) this.onMessage(slot, msg);
    // Results finished just before the worker got stuck or died are in its ring, posted or not.
    this.readRing(slot);
    const counters = this.slotCounters.get(slot);
    if (counters) {
      this.totals.lateEvents += counters.lateEvents;
      this.totals.orphanErrors += counters.orphanErrors;
      this.slotCounters.delete(slot);
    }
    const unstarted = slot.reclaimUnstarted();
    this.answerStarted(slot, cause);
    if (this.startWaiter) this.failStart(this.bootFailure ?? `a worker exited while starting (${cause})`);
    if (!this.closed && !slot.retired) {
      this.totals.restarts++;
      // Take a booted spare into service now if the pool is short; then top up workers and spares.
      if (!wasSpare && this.slots.length < this.opts.workers) this.promoteSpare();
      const asSpare = this.slots.length >= this.opts.workers;
      const needed = !asSpare || this.spares.length < (this.opts.spareWorkers ?? 1);
      if (needed && !slot.everReady) {
        // Failing to boot: retry with a growing delay instead of spinning.
        this.consecutiveBootFailures++;
        this.bootFailure ??= `a worker exited while starting (${cause})`;
        const delay = Math.min(MAX_RESPAWN_DELAY_MS, 100 * 2 ** (this.consecutiveBootFailures - 1));
        setTimeout(() => {
          if (!this.closed) this.spawn(asSpare);
        }, delay).unref();
      } else if (needed) {
        this.spawn(asSpare);
      }
    }
    this.redispatch(unstarted, null);
    if (this.bootFailure !== null && !this.slots.some((s) => s.state === 'ready')) this.failWaiting();
  }

  private diagnostic(line: string): void {
    if (this.opts.onWorkerOutput) this.opts.onWorkerOutput(line);
    else process.stderr.write(`atrium: ${line}\n`);
  }

  /** start() failed: reject it and shut everything down, so that no worker keeps the process alive. */
  private failStart(detail: string): void {
    const waiter = this.startWaiter;
    this.startWaiter = null;
    this.closing = true;
    this.closed = true;
    if (this.watchdog) clearInterval(this.watchdog);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    const slots = [...this.slots, ...this.spares];
    this.slots = [];
    this.spares = [];
    for (const slot of slots) void slot.stop();
    this.failWaiting();
    waiter?.reject(new Error(Messages.cannotStart(detail)));
  }

  /** Moves a ready spare into service; false when none is ready. */
  private promoteSpare(): boolean {
    const spare = this.spares.find((s) => s.state === 'ready');
    if (!spare) return false;
    this.spares = this.spares.filter((s) => s !== spare);
    this.slots.push(spare);
    if (this.waiting.length > 0) {
      const waiting = this.waiting;
      this.waiting = [];
      this.redispatch(waiting, null);
    }
    return true;
  }

  /** Answers the invocations a dead worker had started (and not finished). */
  private answerStarted(slot: WorkerSlot, cause: ExitCause): void {
    const started = [...slot.assigned.values()].filter((p) => !p.settled);
    slot.assigned.clear();
    const flagged = slot.shared.memoryExceeded();
    const running = flagged > 0 ? flagged : slot.shared.running();
    const culpritKnown = started.some((p) => p.id === running);
    for (const p of started) {
      let message: string;
      if (cause === 'out-of-memory') {
        if (p.id === running || (!culpritKnown && started.length === 1)) message = Messages.memoryLimit(this.opts.maxHeapMb);
        else if (culpritKnown) message = Messages.workerOutOfMemory;
        else message = Messages.memoryLimitUnattributed(this.opts.maxHeapMb);
      } else {
        message = cause === 'stopped' ? Messages.workerStopped : Messages.workerCrashed;
      }
      this.settle(p, failedResult({ code: ErrorCode.FunctionExecutionError, message }));
    }
  }

  private failWaiting(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const p of waiting) {
      this.settle(p, failedResult({ code: ErrorCode.InternalServerError, message: Messages.cannotStart(this.bootFailure ?? 'unknown error') }));
    }
  }
}
