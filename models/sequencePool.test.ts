import { describe, expect, test } from "@jest/globals";
import { isAbortError } from "../errors.js";
import { SequencePool } from "./sequencePool.js";

describe("SequencePool", () => {
  test("queues beyond its size, FIFO, and drains", async () => {
    const pool = new SequencePool(["s0", "s1"]);
    const a = await pool.acquire();
    const b = await pool.acquire();
    const order: string[] = [];
    const c = pool.acquire().then((s) => {
      order.push(`c:${s}`);
      return s;
    });
    const d = pool.acquire().then((s) => {
      order.push(`d:${s}`);
      return s;
    });
    expect(pool.queued).toBe(2);
    pool.release(b);
    pool.release(a);
    await Promise.all([c, d]);
    expect(order).toEqual([`c:${b}`, `d:${a}`]);
    let drained = false;
    const drain = pool.drain().then(() => {
      drained = true;
    });
    pool.release(await c);
    await Promise.resolve();
    expect(drained).toBe(false);
    pool.release(await d);
    await drain;
    expect(drained).toBe(true);
  });
  test("an abort while queued rejects with AbortError and leaves the queue", async () => {
    const pool = new SequencePool([1]);
    await pool.acquire();
    const ctl = new AbortController();
    const waiting = pool.acquire(ctl.signal);
    ctl.abort();
    await waiting.catch((e) => expect(isAbortError(e)).toBe(true));
    expect(pool.queued).toBe(0);
    pool.close();
    await expect(pool.acquire()).rejects.toThrow(/disposed/);
  });
});
