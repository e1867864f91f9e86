/**
 * The actor runtime: starts XState actors for one call each and supervises them.
 *
 * 1. Mailbox: at most `concurrency` actors run at once; further calls wait in a bounded queue of
 *    `mailboxSize`. When the queue is full, `overflow: "wait"` makes the caller wait for room (back
 *    pressure) and `"reject"` rejects at once with GlRlError `runtime.mailbox_full`.
 * 2. Each attempt runs one actor (`createActor(logic, { input, inspect })`) to completion. A per-attempt
 *    time limit stops the actor (which aborts its promise actors' signals) and rejects with TimeoutError.
 *    The caller's AbortSignal stops it too and rejects with AbortError.
 * 3. A failed attempt whose error is transient (`isTransient`: TimeoutError, `error.transient === true`,
 *    connection-level DatabaseErrors) is retried up to `retries` times after `backoffMs · 2^k`.
 * 4. Machines report failure through their output: `{ ok: false, error }` (an `onError` transition into
 *    a final state) rejects the call with `error`; `{ ok: true, value }` resolves with `value`; any other
 *    output is returned as it is.
 * 5. `dispose()` rejects queued calls, stops running actors and refuses new calls.
 *
 * @example
 * const runtime = createActorRuntime({ concurrency: 4, timeoutMs: 30_000 });
 * const candidates = await runtime.call(generateCandidates, { request, generator });
 * await runtime.dispose();
 */
import {
  createActor,
  type ActorLogic,
  type AnyActorLogic,
  type AnyActorRef,
  type InspectionEvent,
  type InputFrom,
  type OutputFrom,
} from "xstate";
import { AbortError, GlRlError, TimeoutError, isAbortError, isDatabaseError, isTimeoutError } from "../errors.js";

/** What a machine returns: the value, or the error its `onError` transition caught. */
export type AgentResult<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** A call's resolved value: AgentResult outputs are unwrapped. */
export type CallResult<O> = [O] extends [AgentResult<infer V>] ? V : O;

export interface ActorRuntimeOptions {
  /** Actors running at once. Default 8. */
  concurrency?: number;
  /** Calls waiting for a slot. Default 256. */
  mailboxSize?: number;
  /** What a call does when the mailbox is full: wait for room (default) or reject. */
  overflow?: "wait" | "reject";
  /** Per-attempt time limit, ms. Default 120000. */
  timeoutMs?: number;
  /** Retries of a transient failure. Default 2. */
  retries?: number;
  /** First retry delay, ms (doubles each retry). Default 50. */
  backoffMs?: number;
  /** Which errors deserve a retry. Default `isTransientError`. */
  isTransient?: (error: unknown) => boolean;
  /** XState inspection of every actor the runtime starts (the event bus hooks in here). */
  inspect?: (event: InspectionEvent) => void;
}

export interface CallOptions {
  timeoutMs?: number;
  retries?: number;
  signal?: AbortSignal;
  /** Inspection of this call's actors (in addition to the runtime's). */
  inspect?: (event: InspectionEvent) => void;
  /** The actor's id (shows in inspection events). */
  id?: string;
}

const CONNECTION_CODES = new Set(["connection", "db_unreachable", "connection_lost", "ECONNRESET", "ECONNREFUSED"]);

/** Default transient test: time-outs, errors flagged `transient`, and lost database connections. */
export function isTransientError(error: unknown): boolean {
  if (isAbortError(error)) return false;
  if (isTimeoutError(error)) return true;
  if ((error as { transient?: unknown } | null)?.transient === true) return true;
  return isDatabaseError(error) && CONNECTION_CODES.has(error.code);
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortError());
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortError());
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/** Supervises short-lived agent actors (see the file comment). */
export class ActorRuntime {
  private readonly options: Required<Omit<ActorRuntimeOptions, "inspect">> & Pick<ActorRuntimeOptions, "inspect">;
  private running = 0;
  private readonly queue: Waiter[] = [];
  private readonly roomWaiters: Waiter[] = [];
  private readonly actors = new Set<AnyActorRef>();
  private disposed = false;
  private completed = 0;

  constructor(options: ActorRuntimeOptions = {}) {
    this.options = {
      concurrency: options.concurrency ?? 8,
      mailboxSize: options.mailboxSize ?? 256,
      overflow: options.overflow ?? "wait",
      timeoutMs: options.timeoutMs ?? 120_000,
      retries: options.retries ?? 2,
      backoffMs: options.backoffMs ?? 50,
      isTransient: options.isTransient ?? isTransientError,
      inspect: options.inspect,
    };
    for (const key of ["concurrency", "mailboxSize"] as const) {
      const v = this.options[key];
      if (!Number.isInteger(v) || v < 1)
        throw new GlRlError("runtime.config", `actor runtime: ${key} must be a positive integer, got ${v}`, {
          hint: "pass e.g. { concurrency: 8, mailboxSize: 256 }",
        });
    }
  }

  /** Actors running now. */
  get active(): number {
    return this.running;
  }
  /** Calls waiting in the mailbox. */
  get queued(): number {
    return this.queue.length;
  }
  /** Calls finished (ok or not) since creation. */
  get finished(): number {
    return this.completed;
  }

  /** Runs `logic` with `input` in a supervised actor and resolves with its (unwrapped) output. */
  async call<L extends AnyActorLogic>(
    logic: L,
    input: InputFrom<L>,
    options: CallOptions = {},
  ): Promise<CallResult<OutputFrom<L>>> {
    await this.acquire(options.signal);
    try {
      const retries = options.retries ?? this.options.retries;
      for (let attempt = 0; ; attempt++) {
        try {
          return await this.attempt(logic, input, options);
        } catch (error) {
          if (attempt >= retries || this.disposed || options.signal?.aborted || !this.options.isTransient(error))
            throw error;
          await sleep(this.options.backoffMs * 2 ** attempt, options.signal);
        }
      }
    } finally {
      this.completed++;
      this.release();
    }
  }

  /** Stops running actors, rejects queued calls, refuses new ones. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const error = new AbortError("the actor runtime was disposed");
    for (const w of this.queue.splice(0)) w.reject(error);
    for (const w of this.roomWaiters.splice(0)) w.reject(error);
    for (const actor of this.actors) actor.stop();
    this.actors.clear();
  }

  // ─── internals ────────────────────────────────────────────────────────────────────────────────────

  private async acquire(signal?: AbortSignal): Promise<void> {
    if (this.disposed) throw new AbortError("the actor runtime was disposed", { hint: "create a new agent" });
    if (signal?.aborted) throw new AbortError();
    if (this.running < this.options.concurrency && this.queue.length === 0) {
      this.running++;
      return;
    }
    while (this.queue.length >= this.options.mailboxSize) {
      if (this.options.overflow === "reject") {
        throw new GlRlError(
          "runtime.mailbox_full",
          `the agent mailbox is full (${this.queue.length} calls waiting, ${this.running} running)`,
          {
            hint: 'retry later, raise mailboxSize, or use overflow: "wait" for back pressure',
          },
        );
      }
      await this.wait(this.roomWaiters, signal);
    }
    await this.wait(this.queue, signal);
  }

  private wait(list: Waiter[], signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        reject: (e) => {
          signal?.removeEventListener("abort", onAbort);
          reject(e);
        },
      };
      const onAbort = (): void => {
        const i = list.indexOf(waiter);
        if (i >= 0) list.splice(i, 1);
        reject(new AbortError());
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      list.push(waiter);
    });
  }

  private release(): void {
    const next = this.queue.shift();
    if (next)
      next.resolve(); // the slot passes straight to the next call
    else this.running--;
    this.roomWaiters.shift()?.resolve();
  }

  private attempt<L extends AnyActorLogic>(
    logic: L,
    input: InputFrom<L>,
    options: CallOptions,
  ): Promise<CallResult<OutputFrom<L>>> {
    const inspectors = [this.options.inspect, options.inspect].filter(
      (f): f is (e: InspectionEvent) => void => f !== undefined,
    );
    // biome-ignore lint/suspicious/noExplicitAny: createActor takes any logic; L is re-applied to its output below
    const actor = createActor(logic as ActorLogic<any, any, any>, {
      input,
      ...(options.id === undefined ? {} : { id: options.id }),
      ...(inspectors.length === 0
        ? {}
        : {
            inspect: (e: InspectionEvent) => {
              for (const f of inspectors) f(e);
            },
          }),
    });
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    return new Promise<CallResult<OutputFrom<L>>>((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        subscription.unsubscribe();
        this.actors.delete(actor);
        fn();
      };
      const timer = setTimeout(() => {
        finish(() =>
          reject(
            new TimeoutError(`agent '${options.id ?? "actor"}' did not finish within ${timeoutMs} ms`, {
              hint: "raise timeoutMs, or lower the work per call (fewer candidates, smaller maxTokens)",
            }),
          ),
        );
        actor.stop();
      }, timeoutMs);
      const onAbort = (): void => {
        finish(() => reject(new AbortError()));
        actor.stop();
      };
      options.signal?.addEventListener("abort", onAbort, { once: true });
      const subscription = actor.subscribe({
        complete: () => {
          const snapshot = actor.getSnapshot() as { status: string; output?: unknown };
          if (snapshot.status !== "done") {
            finish(() => reject(new AbortError("the agent was stopped")));
            return;
          }
          const output = snapshot.output as AgentResult<unknown> | unknown;
          if (output !== null && typeof output === "object" && "ok" in output && typeof output.ok === "boolean") {
            const result = output as AgentResult<unknown>;
            if (result.ok) finish(() => resolve(result.value as CallResult<OutputFrom<L>>));
            else finish(() => reject(result.error));
          } else {
            finish(() => resolve(output as CallResult<OutputFrom<L>>));
          }
        },
        error: (error) => finish(() => reject(error)),
      });
      this.actors.add(actor);
      if (this.disposed) {
        finish(() => reject(new AbortError("the actor runtime was disposed")));
        return;
      }
      actor.start();
    });
  }
}

/** A new runtime (see ActorRuntimeOptions for the defaults). */
export function createActorRuntime(options: ActorRuntimeOptions = {}): ActorRuntime {
  return new ActorRuntime(options);
}
