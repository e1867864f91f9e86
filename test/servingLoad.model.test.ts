/**
 * Serving many users (docs/serving.md, "Serving many users"), with the real pieces: llama-server built from
 * node-llama-cpp's source, two `gl-rl mcp --http` processes on it, the MCP SDK's client, and — in CI — the
 * PostgreSQL checkpointer both processes share (GLRL_TEST_PG_URL; elsewhere the in-memory one). 50 concurrent asks
 * must all come back, answered or with the reason; killing llama-server under a burst must give every ask in flight
 * a clean model error (the MCP processes stay up), and the first ask after its restart on the same port must work.
 */
import { describe, expect, test } from "@jest/globals";
import { runServingLoad } from "./servingLoad.js";

describe("two MCP servers, one llama-server, one checkpointer", () => {
  test("50 concurrent asks all come back; a killed model server gives clean errors; its restart serves again", async () => {
    if (process.env.CI === "true" && !process.env.GLRL_TEST_PG_URL) throw new Error("CI needs GLRL_TEST_PG_URL");
    const report = await runServingLoad({ asks: 50, checkpointer: process.env.GLRL_TEST_PG_URL ?? "memory" });
    // None lost, most answered (the demo model answers most dev/test questions with some SQL); the rest say why.
    expect(report.outcomes.lost).toBe(0);
    expect(report.outcomes.answered + report.outcomes.refused).toBe(50);
    expect(report.outcomes.answered).toBeGreaterThanOrEqual(40);
    for (const reason of report.refusals) expect(reason).not.toMatch(/unreachable|ECONNREFUSED|timed out/i);
    expect(report.p95Ms).toBeGreaterThanOrEqual(report.p50Ms);
    expect(report.memoryMiB.mcp.every((m) => m > 0)).toBe(true);
    // The kill: every ask in flight ends, none hangs or kills its MCP server; the error names the model server.
    expect(report.killed.mcpAlive).toBe(true);
    expect(report.killed.outcomes.lost).toBe(0);
    expect(report.killed.outcomes.refused).toBeGreaterThan(0);
    for (const reason of report.killed.refusals) expect(reason).toMatch(/^model\.unreachable: .*model server/);
    expect(report.killed.afterRestart.kind).toBe("answered");
  }, 300_000);
});
