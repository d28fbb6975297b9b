// What the worker knows about one running invocation: its log lines, its pending async work and its timers.
import { LogBuffer } from './console-capture';

export const MAX_PENDING_ASYNC = 1000;

type ClearTimer = (handle: unknown) => void;

export class InvocationState {
  readonly logs = new LogBuffer();
  /**
   * Pending promises created by function code: App Services' "async work queue". Timers are not counted
   * themselves: `new Promise((r) => setTimeout(r, 20))` is one piece of pending work, not two.
   */
  pending = 0;
  /** Set once the pending count went past MAX_PENDING_ASYNC. */
  overflowed = false;
  /** No result will be sent any more: finished, failed, or cancelled by the pool. */
  ended = false;
  private timers: Map<unknown, ClearTimer> | null = null;

  constructor(
    readonly id: number,
    /** Counts events (logs, errors) that arrive after the invocation ended. */
    private readonly onLateEvent: () => void,
  ) {}

  log(line: string): void {
    if (this.ended) this.onLateEvent();
    else this.logs.push(line);
  }

  addTimer(handle: unknown, clear: ClearTimer): void {
    (this.timers ??= new Map()).set(handle, clear);
  }

  /** Returns false when the timer was not (or no longer) tracked. */
  removeTimer(handle: unknown): boolean {
    return this.timers !== null && this.timers.delete(handle);
  }

  /** Marks the invocation ended and cancels its timers: work left behind by a finished function never runs. */
  end(): void {
    this.ended = true;
    if (this.timers === null) return;
    for (const [handle, clear] of this.timers) clear(handle);
    this.timers = null;
  }
}
