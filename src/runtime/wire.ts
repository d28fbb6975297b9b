// Messages between the pool (main thread) and a function worker. Internal to runtime/.
// Both directions are batched: one message carries every invocation (or result) of one event-loop turn.
import type { AppDefinition } from '../app/types';
import type { Invocation, InvocationResult } from './types';
import type { MessagePort } from 'node:worker_threads';

/** What a worker is started with (workerData). */
export interface WorkerBoot {
  app: AppDefinition;
  dataDir: string;
  mongodbUris: Record<string, string>;
  dependenciesDir: string | null;
  maxHeapMb: number;
  /** Freeze the worker's own JavaScript intrinsics (see lockdown.ts). */
  freezeIntrinsics: boolean;
  /** ISO time the app was (re)deployed, for context.app.lastDeployed. */
  deployedAt: string;
  shared: SharedArrayBuffer;
  port: MessagePort;
}

export interface DispatchedInvocation {
  /** Pool-wide invocation id (never 0). */
  id: number;
  /** Per-worker dispatch number, claimed through SharedState before the worker runs it. */
  seq: number;
  inv: Invocation;
}

export type ToWorker =
  | { t: 'run'; items: DispatchedInvocation[] }
  /** Stop waiting for these invocations: their deadline passed while their code was idle. */
  | { t: 'cancel'; ids: number[] };

export interface WorkerCounters {
  /** Console lines, errors and rejections that arrived after their invocation had ended. */
  lateEvents: number;
  /** Uncaught exceptions / unhandled rejections that could not be tied to any invocation. */
  orphanErrors: number;
}

export type FromWorker =
  | { t: 'ready' }
  | { t: 'boot-failed'; message: string }
  | { t: 'done'; results: Array<{ id: number; result: InvocationResult }>; cancelled: number[]; counters: WorkerCounters };
