/**
 * Waiting for a completion signal (market-protocol §1.8) in a store: check now, then after every applied batch,
 * until the predicate yields a value, throws, or the deadline passes (`DiffTimeoutError`). Every wait has a deadline.
 */
import { ClosedError, DiffTimeoutError } from '#shared/errors/diff.ts';
import type { DiffStore } from './store.ts';

export interface WaitOptions {
  timeoutMs: number;
  what: string;
  details?: Record<string, unknown>;
  /** Registers a rejection source (fatal connection error, client closed); returns its unsubscribe function. */
  abort?: (reject: (err: unknown) => void) => () => void;
}

/** Resolve with the first non-undefined predicate value; a predicate that throws rejects the wait. */
export function waitForStore<T>(store: DiffStore, predicate: () => T | undefined, opts: WaitOptions): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let unsubUpdate: () => void = () => {};
    let unsubAbort: () => void = () => {};
    const timer = setTimeout(
      () => finish(new DiffTimeoutError(opts.what, opts.timeoutMs, opts.details)),
      opts.timeoutMs,
    );
    function finish(err: unknown, value?: T): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsubUpdate();
      unsubAbort();
      if (err !== undefined) reject(err);
      else resolve(value as T);
    }
    const check = () => {
      try {
        const v = predicate();
        if (v !== undefined) finish(undefined, v);
      } catch (err) {
        finish(err);
      }
    };
    unsubUpdate = store.onUpdate(check);
    if (opts.abort) unsubAbort = opts.abort((err) => finish(err ?? new ClosedError(opts.what)));
    check();
  });
}
