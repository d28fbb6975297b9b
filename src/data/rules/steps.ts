// Rule checks are written once, as generators that yield only when an expression needs asynchronous evaluation
// (%function). run() drives one synchronously and switches to promises only if it yields, so the common case
// (no %function) costs no promise or microtask per document or field.
import type { MaybePromise } from './rule-context';

export type Steps<T> = Generator<Promise<boolean>, T, boolean>;

async function finish<T>(gen: Steps<T>, pending: Promise<boolean>): Promise<T> {
  let step = gen.next(await pending);
  while (!step.done) step = gen.next(await step.value);
  return step.value;
}

/** Runs `gen` to completion: its result, or a promise of it when some expression was asynchronous. */
export function run<T>(gen: Steps<T>): MaybePromise<T> {
  const step = gen.next();
  return step.done ? step.value : finish(gen, step.value);
}

/** A value or a promise: the value itself when it is already there. */
export function isPromise<T>(v: MaybePromise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}
