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
