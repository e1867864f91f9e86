/**
 * Many users on one model server (docs/serving.md, "Serving many users"): one real `llama-server` with the demo
 * model, two `gl-rl mcp --http` processes on it (`--model openai:…`) sharing one checkpointer, and MCP SDK clients
 * sending `ask` calls to both at once. Then the model server is killed in the middle of a burst and started again on
 * the same port. bench/servingLoad.ts prints the numbers; test/servingLoad.model.test.ts asserts them.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { loadDataset } from "../data/loadDataset.js";
import { type RunningLlamaServer, startLlamaServer } from "./llamaServer.js";
import { startMcpHttp, stopChild } from "./mcpHttp.js";

export interface AskOutcome {
  server: number;
  ms: number;
  /** answered: SQL came back; refused: a tool error (isError), or an answer whose `error` says why it has no SQL
   * (a failed model call: the agent's nodes catch failures) or without SQL (its explanation says why); lost: the call
   * itself threw (no answer at all). */
  kind: "answered" | "refused" | "lost";
  detail: string;
}

export interface ServingLoadReport {
  asks: number;
  checkpointer: string;
  outcomes: Record<AskOutcome["kind"], number>;
  /** Why the asks that were not answered were not (distinct details). */
  refusals: string[];
  p50Ms: number;
  p95Ms: number;
  wallMs: number;
  /** Peak resident memory (VmHWM) of each process, MiB. */
  memoryMiB: { mcp: number[]; llamaServer: number };
  /** The burst during which llama-server was killed, and the first ask after its restart. */
  killed: {
    outcomes: Record<AskOutcome["kind"], number>;
    refusals: string[];
    mcpAlive: boolean;
    afterRestart: AskOutcome;
  };
}

function peakRssMiB(pid: number | undefined): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

async function ask(client: Client, server: number, question: string): Promise<AskOutcome> {
  const started = performance.now();
  try {
    const result = (await client.callTool({ name: "ask", arguments: { question } }, undefined, {
      timeout: 180_000,
    })) as CallToolResult;
    const text = result.content.map((c) => (c.type === "text" ? c.text : "")).join("");
    const ms = performance.now() - started;
    if (result.isError) {
      const error = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
      return { server, ms, kind: "refused", detail: `${error?.code}: ${error?.message}` };
    }
    const answer = JSON.parse(text) as {
      sql?: string | null;
      error?: { code?: string; message?: string } | null;
      explanation?: string;
    };
    if (answer.error) return { server, ms, kind: "refused", detail: `${answer.error.code}: ${answer.error.message}` };
    if (!answer.sql) return { server, ms, kind: "refused", detail: `no SQL: ${answer.explanation ?? ""}` };
    return { server, ms, kind: "answered", detail: answer.sql };
  } catch (error) {
    return { server, ms: performance.now() - started, kind: "lost", detail: String(error) };
  }
}

const count = (outcomes: AskOutcome[]): Record<AskOutcome["kind"], number> => ({
  answered: outcomes.filter((o) => o.kind === "answered").length,
  refused: outcomes.filter((o) => o.kind === "refused").length,
  lost: outcomes.filter((o) => o.kind === "lost").length,
});

const percentile = (xs: number[], p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

/** Runs the whole scenario; everything it started is stopped before it returns. */
export async function runServingLoad(
  options: { asks?: number; checkpointer?: string } = {},
): Promise<ServingLoadReport> {
  const asks = options.asks ?? 50;
  const checkpointer = options.checkpointer ?? "memory";
  // Distinct questions (the agent caches generations by prompt: a repeated question would not reach the model).
  const questions = [
    ...new Set([...(await loadDataset("dev")), ...(await loadDataset("test"))].map((e) => e.question)),
  ];
  if (questions.length < asks + 17)
    throw new Error(`${asks} asks need ${asks + 17} distinct questions, have ${questions.length}`);
  let llama: RunningLlamaServer | null = await startLlamaServer();
  const port = llama.port;
  const mcps: { child: ChildProcess; url: string }[] = [];
  const clients: Client[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      mcps.push(
        await startMcpHttp(["--model", `openai:${llama.url}`, "--checkpointer", checkpointer, "--timeout", "120000"]),
      );
      const client = new Client({ name: `gl-rl-load-${i}`, version: "1.0.0" });
      await client.connect(new StreamableHTTPClientTransport(new URL(mcps[i]!.url)));
      clients.push(client);
    }
    const started = performance.now();
    const outcomes = await Promise.all(
      Array.from({ length: asks }, (_, i) => ask(clients[i % 2]!, i % 2, questions[i]!)),
    );
    const wallMs = performance.now() - started;
    const answeredMs = outcomes.filter((o) => o.kind === "answered").map((o) => o.ms);
    const memoryMiB = { mcp: mcps.map((m) => peakRssMiB(m.child.pid)), llamaServer: peakRssMiB(llama.pid) };

    // A burst, and the model server killed under it.
    const burst = Promise.all(Array.from({ length: 16 }, (_, i) => ask(clients[i % 2]!, i % 2, questions[asks + i]!)));
    await new Promise((r) => setTimeout(r, 100));
    await llama.kill();
    llama = null;
    const killedOutcomes = await burst;
    const mcpAlive = mcps.every((m) => m.child.exitCode === null);
    llama = await startLlamaServer({ port });
    const afterRestart = await ask(clients[0]!, 0, questions[asks + 16]!);
    return {
      asks,
      checkpointer: checkpointer.replace(/\/\/[^@]*@/, "//…@"),
      outcomes: count(outcomes),
      refusals: [...new Set(outcomes.filter((o) => o.kind !== "answered").map((o) => o.detail))],
      p50Ms: percentile(answeredMs, 50),
      p95Ms: percentile(answeredMs, 95),
      wallMs,
      memoryMiB,
      killed: {
        outcomes: count(killedOutcomes),
        refusals: [...new Set(killedOutcomes.filter((o) => o.kind !== "answered").map((o) => o.detail))],
        mcpAlive,
        afterRestart,
      },
    };
  } finally {
    for (const client of clients) await client.close().catch(() => undefined);
    for (const m of mcps) await stopChild(m.child);
    await llama?.stop();
  }
}
