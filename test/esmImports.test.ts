import { describe, expect, it } from "@jest/globals";

// ESM-only dependencies must import cleanly under jest (docs/ecosystem.md).
describe("ESM-only dependencies under jest", () => {
  it("imports node-llama-cpp and PGlite, and instanceof Array agrees with Array.isArray across realms", async () => {
    const llama = await import("node-llama-cpp");
    const { PGlite } = await import("@electric-sql/pglite");
    expect(typeof llama.getLlama).toBe("function");
    expect(typeof PGlite).toBe("function");
    const outer = (await import("node:vm")).runInNewContext("[1, 2]");
    expect(Array.isArray(outer)).toBe(true);
    // biome-ignore lint/suspicious/useIsArray: instanceof across realms is what this test checks
    expect(outer instanceof Array).toBe(true);
    // biome-ignore lint/suspicious/useIsArray: instanceof across realms is what this test checks
    expect({ length: 0 } instanceof Array).toBe(false);
  });
});
