// The main thread's handle on one function worker: spawning it, its queue of invocations not yet posted,
// the invocations it holds, and what is known about it through the shared words (heartbeat, claims).
import path from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { ResultRing } from './result-ring';
import { nextSeq, seqBefore, SharedState } from './shared-state';
import type { Invocation, InvocationResult } from './types';
import { InvocationBatch, isResultMessage, type CancelMessage, type FromWorker, type ResultMessage, type WorkerBoot } from './wire';

const WORKER_FILE = path.join(__dirname, 'worker-main.js');
/** Shared result ring size per worker: far more than one turn of results; when full, results go by message. */
const RESULT_RING_BYTES = 1 << 20;

/** An invocation accepted by the pool and not yet answered. */
export interface Pending {
  id: number;
  /** Dropped (null) once settled, with `resolve`: a settled entry may wait in the deadline queue a while longer. */
  inv: Invocation | null;
  deadline: number;
  settled: boolean;
  resolve(result: InvocationResult): void;
  /** Where it is now, and its dispatch number there. */
  slot: WorkerSlot | null;
  seq: number;
}

export type SlotState = 'starting' | 'ready' | 'stopping' | 'dead';
export type ExitCause = 'stopped' | 'crashed' | 'out-of-memory';

export interface SlotEvents {
  ready(slot: WorkerSlot): void;
  bootFailed(slot: WorkerSlot, message: string): void;
  message(slot: WorkerSlot, msg: ResultMessage): void;
  exit(slot: WorkerSlot, cause: ExitCause): void;
  /** Something the worker thread wrote to its stdout/stderr (npm libraries; function console output never goes there). */
  output(line: string): void;
  /** The pool's own diagnostics about a worker (an uncaught worker error). */
  diagnostic(line: string): void;
}

export type SlotBoot = Omit<WorkerBoot, 'shared' | 'ring' | 'port'>;

/** Settings the data layer reads inside workers (documented in docs/configuration.md); never secrets. */
const DATA_LAYER_SETTINGS = ['ATRIUM_DATA_SYNC', 'ATRIUM_MONGODB_TIMEOUT_MS'];

function dataLayerSettings(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of DATA_LAYER_SETTINGS) {
    const v = process.env[name];
    if (v !== undefined) env[name] = v;
  }
  return env;
}

export class WorkerSlot {
  readonly shared = SharedState.create();
  readonly ring = ResultRing.create(RESULT_RING_BYTES);
  readonly assigned = new Map<number, Pending>();
  state: SlotState = 'starting';
  everReady = false;
  /** Set when the pool decided to stop it (deadline); otherwise an exit is a crash. */
  stopRequested = false;
  /** Stopped because the pool had a worker too many (after a spare was brought in); not replaced. */
  retired = false;
  /** Invocation id -> time by which the worker must acknowledge its cancellation. */
  readonly cancelAckBy = new Map<number, number>();
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private lastSeq = 0;
  private outbox = new InvocationBatch();
  private cancels: number[] = [];
  private outOfMemory = false;

  constructor(boot: SlotBoot, maxHeapMb: number, private readonly events: SlotEvents) {
    const channel = new MessageChannel();
    this.port = channel.port1;
    const workerData: WorkerBoot = { ...boot, shared: this.shared.buffer, ring: this.ring.buffer, port: channel.port2 };
    this.worker = new Worker(WORKER_FILE, {
      workerData,
      transferList: [channel.port2],
      resourceLimits: { maxOldGenerationSizeMb: maxHeapMb },
      // The server's environment never reaches function code, even through the real `process`; only the data
      // layer's own, non-secret settings are passed on.
      env: dataLayerSettings(),
      stdout: true,
      stderr: true,
      name: 'atrium-function-worker',
    });
    this.port.on('message', (msg: FromWorker) => this.onMessage(msg));
    this.worker.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') this.outOfMemory = true;
      else events.diagnostic(`function worker error: ${err.stack ?? err.message}`);
    });
    this.worker.on('exit', () => {
      const cause: ExitCause = this.outOfMemory ? 'out-of-memory' : this.stopRequested ? 'stopped' : 'crashed';
      this.state = 'dead';
      events.exit(this, cause);
      this.port.close();
    });
    for (const stream of [this.worker.stdout, this.worker.stderr]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) if (line.trim() !== '') events.output(line);
      });
    }
  }

  private onMessage(msg: FromWorker): void {
    if (this.state === 'dead') return;
    if (isResultMessage(msg)) {
      this.events.message(this, msg);
    } else if (msg.t === 'ready') {
      if (this.state === 'starting') this.state = 'ready';
      this.everReady = true;
      this.events.ready(this);
    } else if (msg.t === 'boot-failed') {
      this.events.bootFailed(this, msg.message);
    }
  }

  /** Messages the worker posted before it died (results that were already on their way). */
  drainMessages(): ResultMessage[] {
    const out: ResultMessage[] = [];
    for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port)) {
      const msg = m.message as FromWorker;
      if (isResultMessage(msg)) out.push(msg);
    }
    return out;
  }

  load(): number {
    return this.assigned.size;
  }

  heartbeatAge(now: number): number {
    return now - this.shared.lastBeat();
  }

  /** Queues an invocation for this worker; it is posted with the others of this tick by flush(). */
  /** Throws, changing nothing, when the invocation cannot be encoded. */
  assign(p: Pending): void {
    if (p.inv === null) throw new Error('invocation already answered');
    const seq = nextSeq(this.lastSeq);
    this.outbox.add(p.id, seq, p.inv);
    this.lastSeq = seq;
    p.slot = this;
    p.seq = seq;
    this.assigned.set(p.id, p);
  }

  /** Invocations assigned and not posted yet. */
  queued(): number {
    return this.outbox.count;
  }

  cancel(id: number, ackBy: number): void {
    this.cancels.push(id);
    this.cancelAckBy.set(id, ackBy);
  }

  flush(): void {
    if (this.state === 'dead') return;
    if (this.cancels.length > 0) {
      const msg: CancelMessage = { t: 'cancel', ids: this.cancels };
      this.cancels = [];
      this.port.postMessage(msg);
    }
    if (!this.outbox.empty) {
      const batch = this.outbox;
      this.outbox = new InvocationBatch();
      this.port.postMessage(batch.items, batch.transfer);
    }
  }

  /**
   * Takes back every assigned invocation the worker has not started (it never will: the claim word says so).
   * Returns them, removed from this slot.
   */
  reclaimUnstarted(): Pending[] {
    const startedUpTo = this.shared.claimUpTo(this.lastSeq);
    const taken: Pending[] = [];
    for (const p of this.assigned.values()) {
      if (seqBefore(startedUpTo, p.seq)) taken.push(p);
    }
    for (const p of taken) {
      this.assigned.delete(p.id);
      p.slot = null;
    }
    // Everything up to lastSeq is claimed now: nothing still queued here may be posted.
    this.outbox = new InvocationBatch();
    return taken;
  }

  hasUnstarted(): boolean {
    return seqBefore(this.shared.claimed(), this.lastSeq);
  }

  isStarted(p: Pending): boolean {
    return !seqBefore(this.shared.claimed(), p.seq);
  }

  /** The worker went past its memory cap outside the heap: its exit counts as heap exhaustion. */
  markOutOfMemory(): void {
    this.outOfMemory = true;
  }

  stop(): Promise<number> {
    this.stopRequested = true;
    if (this.state !== 'dead') this.state = 'stopping';
    return this.worker.terminate();
  }
}
