/**
 * `--model openai:<url>` through the real binary, against a real llama-server serving the demo model
 * (test/llamaServer.ts): ask, eval (the same accuracy as the model in-process), passAtK, and the one error
 * line when nothing listens at the URL.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { runGlRl } from "../runGlRl.js";
import { DEMO_MODEL, freePort, type RunningLlamaServer, startLlamaServer } from "../../test/llamaServer.js";

let server: RunningLlamaServer;

beforeAll(async () => {
  // The first run on a machine builds llama-server (minutes; test/llamaServer.ts).
  server = await startLlamaServer();
}, 45 * 60_000);

afterAll(async () => {
  await server?.stop();
});

describe("gl-rl with --model openai:<url>", () => {
  test("ask answers through the server: one JSON object, the exit code follows sql", async () => {
    const result = await runGlRl(
      ["ask", "How many projects are there?", "--model", `openai:${server.url}/v1`, "--candidates", "2", "--json"],
      { timeoutMs: 240_000 },
    );
    const lines = result.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const answer = JSON.parse(lines[0]!) as { sql: string | null; confidence: number; error?: unknown };
    expect(answer.error).toBeUndefined();
    expect(answer.sql).toMatch(/^SELECT/i);
    expect(answer.confidence).toBeGreaterThan(0);
    expect(answer.confidence).toBeLessThanOrEqual(1);
    expect(result.code).toBe(0);
  }, 300_000);

  test("eval on dev: the same accuracy and validity as the model in-process", async () => {
    const args = ["eval", "--split", "dev", "--limit", "20", "--json"];
    const remote = await runGlRl([...args, "--model", `openai:${server.url}`], { timeoutMs: 300_000 });
    const local = await runGlRl([...args, "--model", DEMO_MODEL], { timeoutMs: 300_000 });
    expect(remote.code).toBe(0);
    expect(local.code).toBe(0);
    const r = JSON.parse(remote.stdout) as Record<string, unknown>;
    const l = JSON.parse(local.stdout) as Record<string, unknown>;
    expect(r.n).toBe(20);
    expect(r.prompt_style).toBe("tiny");
    expect([r.execution_accuracy, r.validity_rate]).toEqual([l.execution_accuracy, l.validity_rate]);
    expect(r.model).toBe(`openai:${server.url}`);
  }, 600_000);

  test("passAtK samples through the server", async () => {
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ["--import", "tsx", "bench/passAtK.ts", "--model", `openai:${server.url}`, "--limit", "2", "--n", "2"],
        { cwd: fileURLToPath(new URL("../../", import.meta.url)), timeout: 300_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr }),
      );
    });
    expect(out.stderr).not.toMatch(/Error/);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`model openai:${server.url}, split dev (n = 2, tiny prompts), 2 samples per question`);
    expect(out.stdout).toMatch(/\| pass@2 \(T = 1\) \| \d+\.\d % \|/);
  }, 360_000);

  test("nothing listening at the URL: exit 2 and one error line with a hint", async () => {
    const port = await freePort();
    const result = await runGlRl(["ask", "How many projects?", "--model", `openai:http://127.0.0.1:${port}`]);
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^gl-rl: cannot reach the model server: GET http://127\\.0\\.0\\.1:${port}/v1/models failed \\(ECONNREFUSED\\) \\(hint: start the server`,
      ),
    );
  }, 120_000);
});
