/**
 * A bounded single-consumer async queue behind the port streams. Overflow contract: when `bound` items are waiting
 * and another arrives, the stream fails with `QueueOverflowError` (the consumer is too slow; items are never dropped
 * silently). `end()` finishes iteration after the buffered items; `fail(err)` rejects the next read.
 */
import { DiffError } from '#shared/errors/diff.ts';

export class QueueOverflowError extends DiffError {
  constructor(what: string, bound: number) {
    super('diff_queue_overflow', `${what}: consumer fell ${bound} items behind; the stream was failed, not trimmed`, {
      details: { what, bound },
    });
  }
}

export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private head = 0;
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  private ended = false;
  private error: unknown;
  private iterated = false;

  constructor(
    private readonly what: string,
    private readonly bound: number,
    private readonly onReturn: () => void = () => {},
  ) {}

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    if (this.ended || this.error !== undefined) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ value: item, done: false });
      return;
    }
    if (this.size >= this.bound) {
      this.fail(new QueueOverflowError(this.what, this.bound));
      return;
    }
    this.items.push(item);
  }

  fail(err: unknown): void {
    if (this.ended || this.error !== undefined) return;
    this.error = err;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.reject(err);
    }
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.waiter && this.size === 0) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ value: undefined, done: true });
    }
  }

  private next(): Promise<IteratorResult<T>> {
    if (this.size > 0) {
      const value = this.items[this.head] as T;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items.splice(0, this.head);
        this.head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.error !== undefined) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.iterated) throw new Error(`${this.what} can be iterated once`);
    this.iterated = true;
    return {
      next: () => this.next(),
      return: () => {
        this.end();
        this.onReturn();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

/** Bounded insertion-ordered set: adding beyond the bound forgets the oldest key. */
export class BoundedSet {
  private readonly items = new Set<string>();
  constructor(private readonly bound: number) {}
  has(k: string): boolean {
    return this.items.has(k);
  }
  add(k: string): void {
    if (this.items.has(k)) return;
    this.items.add(k);
    if (this.items.size > this.bound) {
      const oldest = this.items.values().next().value;
      if (oldest !== undefined) this.items.delete(oldest);
    }
  }
  get size(): number {
    return this.items.size;
  }
}
