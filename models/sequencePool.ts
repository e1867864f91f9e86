/**
 * A bounded pool of a context's sequences: `acquire()` hands out a free sequence or queues (FIFO) until
 * one is released, so concurrent requests wait instead of failing; `drain()` resolves once every
 * sequence is back (used before disposing a context whose adapter was swapped out).
 */
import { AbortError } from "../errors.js";

export class SequencePool<S> {
  private readonly free: S[];
  private readonly waiters: {
    resolve(s: S): void;
    reject(e: unknown): void;
    signal?: AbortSignal;
    onAbort?: () => void;
  }[] = [];
  private readonly drainers: (() => void)[] = [];
  private closed = false;

  constructor(private readonly all: readonly S[]) {
    this.free = [...all];
  }

  get size(): number {
    return this.all.length;
  }
  get available(): number {
    return this.free.length;
  }
  get queued(): number {
    return this.waiters.length;
  }

  acquire(signal?: AbortSignal): Promise<S> {
    if (signal?.aborted) return Promise.reject(new AbortError("generation aborted before it started"));
    if (this.closed) return Promise.reject(new AbortError("the model was disposed"));
    const s = this.free.pop();
    if (s !== undefined) return Promise.resolve(s);
    return new Promise<S>((resolve, reject) => {
      const waiter: (typeof this.waiters)[number] = { resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(new AbortError("generation aborted while waiting for a free context sequence"));
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
    });
  }

  release(s: S): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      if (waiter.onAbort) waiter.signal?.removeEventListener("abort", waiter.onAbort);
      waiter.resolve(s);
      return;
    }
    this.free.push(s);
    if (this.free.length === this.all.length) for (const d of this.drainers.splice(0)) d();
  }

  /** Resolves when every sequence has been released. */
  drain(): Promise<void> {
    if (this.free.length === this.all.length) return Promise.resolve();
    return new Promise((resolve) => this.drainers.push(resolve));
  }

  /** Rejects queued requests; later acquires fail. */
  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(new AbortError("the model was disposed"));
  }
}
