import { describe, expect, test } from "@jest/globals";
import { isInputError } from "../errors.js";
import { BoundedCache, cacheKey, generationCacheKey, goldResultCacheKey, schemaCacheKey } from "./boundedCache.js";

describe("BoundedCache", () => {
  test("evicts the least recently used entry beyond maxEntries", () => {
    const cache = new BoundedCache<number>({ maxEntries: 2 });
    cache.set("a", 1);
    cache.set("b", 2);
    expect(cache.get("a")).toBe(1); // a is now the most recent
    cache.set("c", 3);
    expect(cache.has("b")).toBe(false);
    expect(cache.get("a")).toBe(1);
    expect(cache.get("c")).toBe(3);
    expect(cache.size).toBe(2);
  });

  test("entries expire after ttlMs", () => {
    let now = 1000;
    const cache = new BoundedCache<string>({ ttlMs: 50, now: () => now });
    cache.set("k", "v");
    now += 49;
    expect(cache.get("k")).toBe("v");
    now += 1;
    expect(cache.get("k")).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.hits).toBe(1);
    expect(cache.misses).toBe(1);
  });

  test("getOrCreate shares one computation and forgets a rejected one", async () => {
    const cache = new BoundedCache<Promise<number>>();
    let calls = 0;
    const create = () => {
      calls++;
      return Promise.resolve(calls);
    };
    const [a, b] = await Promise.all([cache.getOrCreate("x", create), cache.getOrCreate("x", create)]);
    expect([a, b, calls]).toEqual([1, 1, 1]);
    await expect(cache.getOrCreate("bad", () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await Promise.resolve();
    expect(cache.has("bad")).toBe(false);
    expect(await cache.getOrCreate("bad", () => Promise.resolve(7))).toBe(7);
  });

  test("bad limits are InputErrors", () => {
    expect(() => new BoundedCache({ maxEntries: 0 })).toThrow(/maxEntries/);
    try {
      new BoundedCache({ ttlMs: -1 });
    } catch (e) {
      expect(isInputError(e)).toBe(true);
    }
  });

  test("keys are stable under key order and whitespace/case of the question", () => {
    expect(cacheKey({ a: 1, b: [1, { c: 2, d: undefined }] })).toBe(cacheKey({ b: [1, { c: 2 }], a: 1 }));
    expect(cacheKey({ a: 1 })).not.toBe(cacheKey({ a: 2 }));
    const parts = { schemaFingerprint: "f1", params: { n: 4, temperature: 0.7 }, adapter: null };
    expect(generationCacheKey({ ...parts, question: "How  many projects?" })).toBe(
      generationCacheKey({ ...parts, question: "how many projects?" }),
    );
    expect(generationCacheKey({ ...parts, question: "q" })).not.toBe(
      generationCacheKey({ ...parts, adapter: "v2", question: "q" }),
    );
    expect(generationCacheKey({ ...parts, question: "q" })).not.toBe(
      generationCacheKey({ ...parts, schemaFingerprint: "f2", question: "q" }),
    );
    expect(schemaCacheKey("demo")).toBe("schema:demo");
    expect(goldResultCacheKey("demo", "SELECT 1 ")).toBe(goldResultCacheKey("demo", "SELECT 1"));
  });
});
