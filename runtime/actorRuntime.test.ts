import { describe, expect, test } from "@jest/globals";
import { fromPromise } from "xstate";
import { DatabaseError, InputError, TimeoutError, isAbortError, isGlRlError, isTimeoutError } from "../errors.js";
import { createActorRuntime, isTransientError } from "./actorRuntime.js";

const delay = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      reject(new Error("aborted"));
    });
  });

describe("ActorRuntime", () => {
  test("returns the actor's output and unwraps { ok, value } / rethrows { ok: false, error }", async () => {
    const rt = createActorRuntime();
    expect(
      await rt.call(
        fromPromise<number, number>(async ({ input }) => input * 2),
        21,
      ),
    ).toBe(42);
    expect(
      await rt.call(
        fromPromise(async () => ({ ok: true as const, value: "v" })),
        undefined,
      ),
    ).toBe("v");
    await expect(
      rt.call(
        fromPromise(async () => ({ ok: false as const, error: new InputError("bad question") })),
        undefined,
        { retries: 0 },
      ),
    ).rejects.toThrow("bad question");
    await rt.dispose();
  });

  test("a slow attempt times out, its signal is aborted, and transient errors are retried with backoff", async () => {
    const rt = createActorRuntime({ backoffMs: 5 });
    let aborted = false;
    const slow = fromPromise<void>(async ({ signal }) => {
      signal.addEventListener("abort", () => {
        aborted = true;
      });
      await delay(5000, signal);
    });
    const t0 = Date.now();
    const error = await rt.call(slow, undefined, { timeoutMs: 30, retries: 0 }).catch((e: unknown) => e);
    expect(isTimeoutError(error)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(aborted).toBe(true);

    let attempts = 0;
    const flaky = fromPromise<string>(async () => {
      attempts++;
      if (attempts < 3) throw new DatabaseError("connection", "connection reset");
      return "ok";
    });
    expect(await rt.call(flaky, undefined, { retries: 2 })).toBe("ok");
    expect(attempts).toBe(3);

    let permanent = 0;
    const fatal = fromPromise<string>(async () => {
      permanent++;
      throw new InputError("no");
    });
    await expect(rt.call(fatal, undefined, { retries: 3 })).rejects.toThrow("no");
    expect(permanent).toBe(1);
    await rt.dispose();
  });

  test("isTransientError: time-outs, flagged and connection errors only", () => {
    expect(isTransientError(new TimeoutError("t"))).toBe(true);
    expect(isTransientError(Object.assign(new Error("x"), { transient: true }))).toBe(true);
    expect(isTransientError(new DatabaseError("connection", "lost"))).toBe(true);
    expect(isTransientError(new DatabaseError("query_failed", "syntax"))).toBe(false);
    expect(isTransientError(new InputError("x"))).toBe(false);
  });

  test("an AbortSignal cancels a running call", async () => {
    const rt = createActorRuntime();
    const ctl = new AbortController();
    let sawAbort = false;
    const p = rt.call(
      fromPromise<void>(async ({ signal }) => {
        signal.addEventListener("abort", () => {
          sawAbort = true;
        });
        await delay(5000, signal);
      }),
      undefined,
      { signal: ctl.signal },
    );
    setTimeout(() => ctl.abort(), 20);
    expect(isAbortError(await p.catch((e: unknown) => e))).toBe(true);
    expect(sawAbort).toBe(true);
    await rt.dispose();
  });

  test("bounded mailbox: concurrency is respected; full → reject with a clear error, or wait", async () => {
    let running = 0;
    let peak = 0;
    const gate: (() => void)[] = [];
    const work = fromPromise<number, number>(async ({ input }) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((r) => gate.push(r));
      running--;
      return input;
    });
    const rejecting = createActorRuntime({ concurrency: 2, mailboxSize: 2, overflow: "reject" });
    const accepted = [1, 2, 3, 4].map((i) => rejecting.call(work, i));
    const error = await rejecting.call(work, 5).catch((e: unknown) => e);
    expect(isGlRlError(error) && error.code).toBe("runtime.mailbox_full");
    expect((error as Error).message).toMatch(/2 calls waiting, 2 running/);
    expect(rejecting.active).toBe(2);
    expect(rejecting.queued).toBe(2);
    while (gate.length < 4 || gate.length > 0) {
      await new Promise((r) => setTimeout(r, 5));
      gate.shift()?.();
      if (rejecting.finished === 4) break;
    }
    expect(await Promise.all(accepted)).toEqual([1, 2, 3, 4]);
    expect(peak).toBe(2);

    const waiting = createActorRuntime({ concurrency: 1, mailboxSize: 1, overflow: "wait" });
    const all = [1, 2, 3, 4, 5].map((i) => waiting.call(work, i));
    const pump = setInterval(() => gate.shift()?.(), 5);
    expect(await Promise.all(all)).toEqual([1, 2, 3, 4, 5]);
    clearInterval(pump);
    expect(peak).toBe(2);
    await rejecting.dispose();
    await waiting.dispose();
  });

  test("dispose rejects queued calls and refuses new ones", async () => {
    const rt = createActorRuntime({ concurrency: 1 });
    const running = rt.call(
      fromPromise<void>(({ signal }) => delay(5000, signal)),
      undefined,
    );
    const queued = rt.call(
      fromPromise(async () => 1),
      undefined,
    );
    await rt.dispose();
    expect(isAbortError(await queued.catch((e: unknown) => e))).toBe(true);
    expect(isAbortError(await running.catch((e: unknown) => e))).toBe(true);
    expect(
      isAbortError(
        await rt
          .call(
            fromPromise(async () => 1),
            undefined,
          )
          .catch((e: unknown) => e),
      ),
    ).toBe(true);
  });
});
