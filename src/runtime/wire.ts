// Messages between the pool (main thread) and a function worker. Internal to runtime/.
// Both directions are batched and flattened, because structured-cloning nested objects costs several µs per
// invocation on the main thread, the server's bottleneck:
// - main -> worker: one flat array of primitives per batch of up to POST_EVERY invocations (request bodies as
//   transferred Uint8Arrays);
// - worker -> main: results are written to a shared result ring as they finish (result-ring.ts), text bodies
//   under 8 KB included (kept as strings); once per turn a message (JSON text) says "read the ring" and
//   carries what the ring does not: large or binary bodies (transferred Uint8Arrays), cancellation
//   acknowledgements, counters.
import type { MessagePort } from 'node:worker_threads';
import { EJSON } from 'bson';
import type { AppDefinition } from '../app/types';
import type { ResultRing } from './result-ring';
import type { IncomingRequestData, Invocation, InvocationError, InvocationResult, UserInfo } from './types';

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
  /** The worker's result ring (result-ring.ts). */
  ring: SharedArrayBuffer;
  port: MessagePort;
}

export interface WorkerCounters {
  /** Console lines, errors and rejections that arrived after their invocation had ended. */
  lateEvents: number;
  /** Uncaught exceptions / unhandled rejections that could not be tied to any invocation. */
  orphanErrors: number;
}

/** Stop waiting for these invocations: their deadline passed while their code was idle. */
export interface CancelMessage {
  t: 'cancel';
  ids: number[];
}

/** A flattened batch of invocations (see InvocationBatch). */
export type RunMessage = unknown[];

export type ToWorker = RunMessage | CancelMessage;

/** A batch of results: the JSON text, plus the bodies that travel as bytes. */
export type ResultMessage = string | [string, Uint8Array[]];

export type FromWorker = { t: 'ready' } | { t: 'boot-failed'; message: string } | ResultMessage;

export function isResultMessage(msg: FromWorker): msg is ResultMessage {
  return typeof msg === 'string' || Array.isArray(msg);
}

/**
 * Invocations per message to a worker, at most; the rest of a turn's go at its end. One message per turn made the
 * two threads take turns: the HTTP thread read ~60 requests, then the worker ran them, then the HTTP thread wrote
 * ~60 responses, each idle while the other worked. Batches of 16 let them overlap: on the bench app
 * (`wrk -t1 -c64`, 2 cores) 40k -> 48-56k req/s; 8 was as good, 4 worse (message costs), 64 back to taking turns.
 */
export const POST_EVERY = 16;

// ---- main -> worker ----

const KIND_ENDPOINT = 0;
const KIND_FUNCTION = 1;

/** Builds one flattened run message. Request bodies are copied into buffers the worker takes over. */
export class InvocationBatch {
  readonly items: unknown[] = [];
  readonly transfer: ArrayBuffer[] = [];
  /** Invocations in the batch. */
  count = 0;

  get empty(): boolean {
    return this.count === 0;
  }

  /** Adds one invocation; throws (leaving the batch unchanged) when it cannot be encoded. */
  add(id: number, seq: number, inv: Invocation): void {
    const item = this.items;
    const start = item.length;
    try {
      // The user crosses as EJSON so that BSON values in custom_data (dates, ids) survive.
      const user = inv.user === null || inv.user === undefined ? null : userText(inv.user);
      item.push(id, seq, inv.kind === 'endpoint' ? KIND_ENDPOINT : KIND_FUNCTION, text(inv.functionName), text(inv.logId), inv.runAsSystem ? 1 : 0, user);
      let body: Uint8Array | null = null;
      if (inv.kind === 'endpoint') {
        item.push(text(inv.route), inv.respondResult ? 1 : 0, inv.returnType === 'EJSON' ? 'EJSON' : 'JSON');
        body = flattenRequest(item, inv.request);
      } else {
        item.push(text(inv.argsEJSON), inv.source ?? null, inv.request ? 1 : 0);
        if (inv.request) body = flattenRequest(item, inv.request);
      }
      if (body !== null) this.transfer.push(body.buffer as ArrayBuffer);
      this.count++;
    } catch (err) {
      // A malformed invocation must not leave half an item in the batch.
      item.length = start;
      throw err;
    }
  }
}

/** EJSON texts of frozen users (auth hands the same frozen object to every request of a remembered session). */
const frozenUserTexts = new WeakMap<UserInfo, string>();

function userText(user: UserInfo): string {
  if (!Object.isFrozen(user)) return EJSON.stringify(user, { relaxed: true });
  let t = frozenUserTexts.get(user);
  if (t === undefined) {
    t = EJSON.stringify(user, { relaxed: true });
    frozenUserTexts.set(user, t);
  }
  return t;
}

function text(value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`expected a string, got ${typeof value}`);
  return value;
}

/** Request bodies up to this size travel inside the message as latin1 text, larger ones as transferred bytes. */
const INLINE_BODY_MAX = 16 * 1024;

/** The bytes of a latin1 text, in a buffer of their own: never a slice of Buffer's shared pool, which a function
 * could read other data from through `request.body.buffer`. */
function latin1Bytes(text: string): Uint8Array {
  const bytes = Buffer.allocUnsafeSlow(text.length);
  bytes.write(text, 0, 'latin1');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Appends a request's fields; returns the body copy to transfer, if any. */
function flattenRequest(item: unknown[], req: IncomingRequestData): Uint8Array | null {
  item.push(text(req.method), text(req.path), text(req.rawQuery), String(req.remoteIp ?? ''), String(req.baseUrl ?? ''), req.headers.length);
  for (const [name, value] of req.headers) item.push(text(name), text(value));
  if (req.body === undefined) {
    item.push(null);
    return null;
  }
  if (req.body.byteLength <= INLINE_BODY_MAX) {
    // Small bodies travel as a one-byte string (latin1 maps each byte to one character): cheaper to send than a
    // transferred buffer, which the worker must take over and wrap.
    item.push(Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength).toString('latin1'));
    return null;
  }
  // A private copy: the caller's buffer may be a view into a shared pool, and must stay usable.
  const body = new Uint8Array(req.body);
  item.push(body);
  return body;
}

/** Calls `onItem` for every invocation of a run message, in order. */
export function readInvocationBatch(items: RunMessage, onItem: (id: number, seq: number, inv: Invocation) => void): void {
  let i = 0;
  const next = (): unknown => items[i++];
  const str = (): string => next() as string;
  const readRequest = (): IncomingRequestData => {
    const method = str();
    const path = str();
    const rawQuery = str();
    const remoteIp = str();
    const baseUrl = str();
    const count = next() as number;
    const headers: Array<[string, string]> = new Array(count);
    for (let h = 0; h < count; h++) headers[h] = [str(), str()];
    const body = next() as Uint8Array | string | null;
    const req: IncomingRequestData = { method, path, rawQuery, headers, remoteIp, baseUrl };
    if (typeof body === 'string') req.body = latin1Bytes(body);
    else if (body !== null) req.body = body;
    return req;
  };
  while (i < items.length) {
    const id = next() as number;
    const seq = next() as number;
    const kind = next() as number;
    const functionName = str();
    const logId = str();
    const runAsSystem = next() === 1;
    const userText = next() as string | null;
    // Without any "$" key there is no EJSON type in the text, and JSON.parse (several times faster) gives the same.
    const user = userText === null ? null : ((userText.includes('"$') ? EJSON.parse(userText, { relaxed: true }) : JSON.parse(userText)) as UserInfo);
    if (kind === KIND_ENDPOINT) {
      const route = str();
      const respondResult = next() === 1;
      const returnType = str() as 'JSON' | 'EJSON';
      const request = readRequest();
      onItem(id, seq, { kind: 'endpoint', functionName, logId, runAsSystem, user, route, respondResult, returnType, request });
    } else {
      const argsEJSON = str();
      const source = next() as string | null;
      const hasRequest = next() === 1;
      const inv: Invocation = { kind: 'function', functionName, logId, runAsSystem, user, argsEJSON };
      if (source !== null) inv.source = source;
      if (hasRequest) inv.request = readRequest();
      onItem(id, seq, inv);
    }
  }
}

// ---- worker -> main ----

/** An invocation result as the worker produces it: a text body is left as text until it reaches the main thread. */
export interface WorkerResult {
  status: number;
  headers: Array<[string, string]>;
  body: string | Uint8Array | null;
  logs: string[];
  error?: InvocationError;
}

/** Text bodies at least this long travel as transferred bytes rather than inside the JSON text. */
const INLINE_TEXT_MAX = 8 * 1024;
const BODY_NONE = 0;
const BODY_TEXT = 1;
const BODY_BYTES = 2;
const utf8 = new TextEncoder();

/**
 * Collects a worker's results. Results without a byte body are written to the shared result ring right away
 * (see result-ring.ts); the others, cancellation acknowledgements and counters go in the next message, which
 * also tells the main thread to read the ring.
 */
export class ResultBatch {
  private rows: unknown[] = [];
  private cancelledIds: number[] = [];
  private bytes: Uint8Array[] = [];
  private ringWritten = false;

  constructor(private readonly ring: ResultRing) {}

  get empty(): boolean {
    return this.rows.length === 0 && this.cancelledIds.length === 0 && !this.ringWritten;
  }

  add(id: number, result: WorkerResult): void {
    let kind = BODY_NONE;
    let body: unknown = null;
    if (typeof result.body === 'string' && result.body.length < INLINE_TEXT_MAX) {
      kind = BODY_TEXT;
      body = result.body;
    } else if (result.body !== null) {
      kind = BODY_BYTES;
      body = this.bytes.length;
      this.bytes.push(typeof result.body === 'string' ? utf8.encode(result.body) : ownedCopy(result.body));
    }
    const headers: string[] = [];
    for (const [name, value] of result.headers) headers.push(name, value);
    const errorCode = result.error?.code ?? null;
    const errorMessage = result.error?.message ?? null;
    if (kind !== BODY_BYTES) {
      // Ring record: the row as one line of JSON with the body's length in place of the body, then the body as is
      // (inside the JSON it would be escaped here and unescaped again on the HTTP thread).
      const text = kind === BODY_TEXT ? (body as string) : '';
      const line = JSON.stringify([id, result.status, headers, kind, text.length, result.logs, errorCode, errorMessage]);
      if (this.ring.tryWrite(`${line}\n${text}`)) {
        this.ringWritten = true;
        return;
      }
    }
    this.rows.push([id, result.status, headers, kind, body, result.logs, errorCode, errorMessage]);
  }

  cancelled(id: number): void {
    this.cancelledIds.push(id);
  }

  /** The message and its transfer list; resets the batch. */
  take(counters: WorkerCounters): { message: ResultMessage; transfer: ArrayBuffer[] } {
    const text = JSON.stringify([this.rows, this.cancelledIds, counters.lateEvents, counters.orphanErrors]);
    const bytes = this.bytes;
    this.rows = [];
    this.cancelledIds = [];
    this.bytes = [];
    this.ringWritten = false;
    if (bytes.length === 0) return { message: text, transfer: [] };
    return { message: [text, bytes], transfer: bytes.map((b) => b.buffer as ArrayBuffer) };
  }
}

export interface ResultBatchContent {
  results: Array<{ id: number; result: InvocationResult }>;
  cancelled: number[];
  counters: WorkerCounters;
}

/** Results read from a result ring (ResultRing.drain text): records written by ResultBatch.add. */
export function readRingResults(text: string): ResultBatchContent['results'] {
  const rows: unknown[][] = [];
  let at = 0;
  while (at < text.length) {
    const newline = text.indexOf('\n', at);
    if (newline === -1) throw new Error('malformed result ring record');
    const row = JSON.parse(text.slice(at, newline)) as unknown[];
    const length = row[4] as number;
    at = newline + 1 + length;
    if (row[3] === BODY_TEXT) row[4] = text.slice(newline + 1, at);
    rows.push(row);
  }
  return readRows(rows, []);
}

export function readResultBatch(msg: ResultMessage): ResultBatchContent {
  const [text, bytes] = typeof msg === 'string' ? [msg, [] as Uint8Array[]] : msg;
  const [rows, cancelled, lateEvents, orphanErrors] = JSON.parse(text) as [unknown[][], number[], number, number];
  return { results: readRows(rows, bytes), cancelled, counters: { lateEvents, orphanErrors } };
}

function readRows(rows: unknown[][], bytes: Uint8Array[]): ResultBatchContent['results'] {
  const results: ResultBatchContent['results'] = [];
  for (const row of rows) {
    const [id, status, flatHeaders, kind, body, logs, errorCode, errorMessage] = row as [number, number, string[], number, unknown, string[], string | null, string | null];
    const headers: Array<[string, string]> = [];
    for (let h = 0; h < flatHeaders.length; h += 2) headers.push([flatHeaders[h], flatHeaders[h + 1]]);
    const result: InvocationResult = {
      status,
      headers,
      body: kind === BODY_TEXT ? (body as string) : kind === BODY_BYTES ? bytes[body as number] : null,
      logs,
    };
    if (errorCode !== null) result.error = { code: errorCode, message: errorMessage ?? '' };
    results.push({ id, result });
  }
  return results;
}

function ownedCopy(bytes: Uint8Array): Uint8Array {
  // Transfer needs a buffer of its own; a view into a larger or shared buffer is copied out first.
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && !(bytes.buffer instanceof SharedArrayBuffer)) return bytes;
  return new Uint8Array(bytes);
}
