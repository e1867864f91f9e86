import { beforeAll, describe, expect, test } from "@jest/globals";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { writeTinyModel } from "../../models/writeTinyModel.js";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "ask-cli-"));
const modelPath = join(dir, "tiny.gguf");
type Failure = { code: number; stdout: string; stderr: string };

/** `gl-rl ask <args> --model <the tiny model> --candidates 2`; resolves with the exit code, never rejects. */
const glRlAsk = (args: string[]): Promise<Failure> =>
  run("node", ["bin/gl-rl.mjs", "ask", ...args, "--model", modelPath, "--candidates", "2"], { timeout: 120_000 })
    .then((r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }))
    .catch((e: Failure) => e);

beforeAll(async () => {
  await writeTinyModel({
    out: modelPath,
    seed: 3,
    dims: { embedding: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 128, context: 256 },
  });
}, 120_000);

describe("gl-rl ask", () => {
  test("--json prints one object {sql, rows, confidence, explanation, warnings}; the exit code follows sql", async () => {
    const result = await run(
      "node",
      [
        "bin/gl-rl.mjs",
        "ask",
        "Show all active projects with budget over 100000",
        "--model",
        modelPath,
        "--candidates",
        "2",
        "--json",
      ],
      { timeout: 240_000 },
    )
      .then((r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }))
      .catch((e: Failure) => e);
    const lines = result.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const answer = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(answer).sort()).toEqual(["confidence", "explanation", "rows", "sql", "warnings"]);
    expect(answer.confidence).toBeGreaterThanOrEqual(0);
    expect(answer.confidence).toBeLessThanOrEqual(1);
    expect(Array.isArray(answer.rows) && Array.isArray(answer.warnings)).toBe(true);
    expect(result.code).toBe(answer.sql === null ? 1 : 0);
  }, 300_000);

  test("--timeout: the whole ask's budget; when it runs out the JSON says which stage (exit 1)", async () => {
    const result = await glRlAsk(["How many projects are there?", "--timeout", "1", "--json"]);
    const answer = JSON.parse(result.stdout) as { sql: null; error: { stage: string; code: string; message: string } };
    expect(result.code).toBe(1);
    expect(answer.sql).toBeNull();
    expect(answer.error.code).toBe("timeout");
    expect(["link", "generate"]).toContain(answer.error.stage);
    expect(answer.error.message).toMatch(/time budget ran out/);
  }, 120_000);

  test("--checkpointer pglite:<dir> --thread: a second process continues the first one's conversation", async () => {
    const threads = `pglite:${join(dir, "threads")}`;
    const first = await glRlAsk([
      "Show all active projects with budget over 100000",
      "--thread",
      "t1",
      "--checkpointer",
      threads,
      "--json",
    ]);
    expect(JSON.parse(first.stdout).warnings).not.toContainEqual(expect.stringMatching(/follow-up/));
    const second = await glRlAsk(["now only for 2024", "--thread", "t1", "--checkpointer", threads, "--json"]);
    expect((JSON.parse(second.stdout) as { warnings: string[] }).warnings).toContainEqual(
      expect.stringContaining("Show all active projects with budget over 100000 now only for 2024"),
    );
    const bad = await glRlAsk(["How many projects?", "--checkpointer", "redis://x"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^gl-rl: unknown checkpointer 'redis:\/\/x'.*postgres:\/\//);
  }, 240_000);

  const pgUrl = process.env.GLRL_TEST_PG_URL;
  // Registered only with a server (CI starts one; no skipped tests without it).
  if (pgUrl)
    test("--checkpointer postgres://…: two processes continue one thread in LangGraph's PostgreSQL checkpointer", async () => {
      const thread = `cli-${process.pid}-${Date.now()}`;
      await glRlAsk([
        "Show all active projects with budget over 100000",
        "--thread",
        thread,
        "--checkpointer",
        pgUrl,
        "--json",
      ]);
      const second = await glRlAsk(["now only for 2024", "--thread", thread, "--checkpointer", pgUrl, "--json"]);
      expect((JSON.parse(second.stdout) as { warnings: string[] }).warnings).toContainEqual(
        expect.stringContaining("Show all active projects with budget over 100000 now only for 2024"),
      );
    }, 240_000);

  test("a missing or broken model file, or no question, exits 2 with one line", async () => {
    const missing = (await run("node", [
      "bin/gl-rl.mjs",
      "ask",
      "How many projects?",
      "--model",
      join(dir, "nope.gguf"),
      "--json",
    ]).catch((e: Failure) => e)) as Failure;
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    expect(missing.stderr).toMatch(/^gl-rl: .*nope\.gguf/);
    const broken = join(dir, "broken.gguf");
    writeFileSync(broken, "not a model");
    const bad = (await run("node", ["bin/gl-rl.mjs", "ask", "How many projects?", "--model", broken]).catch(
      (e: Failure) => e,
    )) as Failure;
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^gl-rl: .*GGUF/i);
    const none = (await run("node", ["bin/gl-rl.mjs", "ask", "--model", modelPath]).catch(
      (e: Failure) => e,
    )) as Failure;
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/needs a question/);
  }, 240_000);
});
