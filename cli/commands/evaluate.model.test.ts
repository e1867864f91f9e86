/**
 * `gl-rl eval` with the real model stack: a quick demo model (ensureDemoModel with a few steps, cached),
 * `--json --pipeline` prints one report object over `--limit 5` (EX, test-suite EX, the ask pipeline's EX); a missing or broken model exits 2 with one line.
 */
import { afterAll, describe, expect, test } from "@jest/globals";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { demoModelPath, demoModelRecipe, ensureDemoModel } from "../../trainers/demoModel.js";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "eval-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("gl-rl eval", () => {
  test("a quick demo model is built once, and eval --json prints one report object", async () => {
    const path = await ensureDemoModel({ steps: 4, threads: 1 });
    expect(path).toBe(demoModelPath({ steps: 4 }));
    expect(path).not.toBe(demoModelPath()); // the quick model never shadows the real one
    const built = statSync(path).mtimeMs;
    const phases: string[] = [];
    expect(await ensureDemoModel({ steps: 4, onProgress: (e) => phases.push(e.phase) })).toBe(path);
    expect(phases).toEqual(["done"]);
    expect(statSync(path).mtimeMs).toBe(built);
    expect(demoModelRecipe.dims.embedding).toBe(128);

    const { stdout } = await run("node", [
      "bin/gl-rl.mjs",
      "eval",
      "--model",
      path,
      "--split",
      "dev",
      "--limit",
      "5",
      "--max-tokens",
      "16",
      "--threads",
      "1",
      "--pipeline",
      "--json",
    ]);
    const lines = stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0]!) as Record<string, unknown> & {
      by_difficulty: Record<string, { n: number; execution_accuracy: number }>;
    };
    expect(report).toMatchObject({ n: 5, split: "dev", prompt_style: "tiny", model: path, adapter: null });
    // The test suite (3 variants) can only take matches away; --pipeline adds the full ask pipeline's EX.
    expect(typeof report.test_suite_execution_accuracy).toBe("number");
    expect(report.test_suite_execution_accuracy).toBeLessThanOrEqual(report.execution_accuracy as number);
    expect(typeof report.pipeline_execution_accuracy).toBe("number");
    expect(report.pipeline_execution_accuracy).toBeGreaterThanOrEqual(0);
    expect(report.pipeline_execution_accuracy).toBeLessThanOrEqual(1);
    for (const key of ["execution_accuracy", "validity_rate", "mean_reward"]) {
      expect(report[key]).toBeGreaterThanOrEqual(key === "mean_reward" ? -2 : 0);
      expect(report[key]).toBeLessThanOrEqual(key === "mean_reward" ? 2 : 1);
    }
    expect(report.mean_latency_ms).toBeGreaterThan(0);
    expect(Object.values(report.by_difficulty).reduce((a, d) => a + d.n, 0)).toBe(5);
  }, 120_000);

  test("a missing or broken model exits 2 with a one-line message", async () => {
    const missing = (await run("node", [
      "bin/gl-rl.mjs",
      "eval",
      "--model",
      join(dir, "nope.gguf"),
      "--split",
      "dev",
      "--json",
    ]).catch((e: unknown) => e)) as { code: number; stdout: string; stderr: string };
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe("");
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    expect(missing.stderr).toMatch(/^gl-rl: .*nope\.gguf/);
    const broken = join(dir, "broken.gguf");
    writeFileSync(broken, "this is not a GGUF file");
    const bad = (await run("node", ["bin/gl-rl.mjs", "eval", "--model", broken, "--split", "dev"]).catch(
      (e: unknown) => e,
    )) as { code: number; stderr: string };
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^gl-rl: .*not GGUF|^gl-rl: .*GGUF/);
    const noSplit = (await run("node", ["bin/gl-rl.mjs", "eval", "--model", broken]).catch((e: unknown) => e)) as {
      code: number;
      stderr: string;
    };
    expect(noSplit.code).toBe(2);
    expect(noSplit.stderr).toMatch(/--split is required/);
  }, 60_000);
});
