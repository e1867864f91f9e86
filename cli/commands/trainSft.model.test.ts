/**
 * `gl-rl train sft` on the real native extension and the tiny model: all-weights SFT on three pairs lowers
 * the loss, and the saved GGUF loads in node-llama-cpp, greedy-generates the memorised SQL and scores
 * execution accuracy 1 on those pairs through `gl-rl eval`; bad configs exit 2.
 */
import { afterAll, describe, expect, test } from "@jest/globals";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { loadModel } from "../../models/loadModel.js";
import { buildPrompt } from "../../models/promptTemplates.js";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "train-sft-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PAIRS = [
  {
    question: "customers in Sweden",
    evidence: "",
    sql: "SELECT name FROM customers WHERE country = 'Sweden'",
    difficulty: "simple",
    db: "demo",
  },
  {
    question: "count of on hold projects",
    evidence: "",
    sql: "SELECT COUNT(*) FROM projects WHERE status = 'on_hold'",
    difficulty: "simple",
    db: "demo",
  },
  {
    question: "vendors in category Software",
    evidence: "",
    sql: "SELECT name FROM vendors WHERE category = 'Software'",
    difficulty: "simple",
    db: "demo",
  },
];

describe("gl-rl train sft", () => {
  test("memorises three pairs: loss falls, the GGUF generates the SQL, eval scores them all", async () => {
    const data = join(dir, "pairs.jsonl");
    writeFileSync(data, PAIRS.map((p, i) => JSON.stringify({ id: `p${i}`, ...p })).join("\n"));
    const config = join(dir, "sft.json");
    writeFileSync(
      config,
      JSON.stringify({
        model: "tiny",
        dataset: data,
        devDataset: data,
        batchSize: 3,
        epochs: 100,
        learningRate: 3e-3,
        warmupSteps: 5,
        evalEvery: 0,
        checkpointEvery: 0,
        evalLimit: 0,
      }),
    );
    const out = join(dir, "run");
    const { stdout } = await run("node", [
      "bin/gl-rl.mjs",
      "train",
      "sft",
      "--config",
      config,
      "--out",
      out,
      "--threads",
      "1",
    ]);
    const summary = JSON.parse(stdout) as { steps: number; finalLoss: number; output: string; trainable: string };
    expect(summary).toMatchObject({ steps: 100, trainable: "all", output: join(out, "model.gguf") });
    const steps = readFileSync(join(out, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { loss?: number });
    const losses = steps.filter((s) => s.loss !== undefined).map((s) => s.loss!);
    expect(losses[0]).toBeGreaterThan(5);
    expect(losses[losses.length - 1]).toBeLessThan(0.1);
    expect(existsSync(join(out, "checkpoint", "state.json"))).toBe(true);

    const model = await loadModel({ model: summary.output, gpu: false, sequences: 1, threads: 1 });
    try {
      const completion = await model.generate(buildPrompt("tiny", { question: PAIRS[0]!.question }), {
        temperature: 0,
        maxTokens: 40,
      });
      expect(completion.text).toBe(PAIRS[0]!.sql);
      expect(completion.finishReason).toBe("eos");
    } finally {
      await model.dispose();
    }

    const evaluated = await run("node", [
      "bin/gl-rl.mjs",
      "eval",
      "--model",
      summary.output,
      "--split",
      data,
      "--json",
      "--threads",
      "1",
    ]);
    const report = JSON.parse(evaluated.stdout) as {
      execution_accuracy: number;
      n: number;
      validity_rate: number;
      by_difficulty: Record<string, { n: number }>;
    };
    expect(report).toMatchObject({
      execution_accuracy: 1,
      n: 3,
      validity_rate: 1,
      by_difficulty: { simple: { n: 3 } },
    });
  }, 120_000);

  test("a bad config exits 2 with a one-line message", async () => {
    const config = join(dir, "bad.json");
    writeFileSync(config, JSON.stringify({ batchSize: 0 }));
    const failure = (await run("node", ["bin/gl-rl.mjs", "train", "sft", "--config", config]).catch(
      (e: unknown) => e,
    )) as { code: number; stderr: string };
    expect(failure.code).toBe(2);
    expect(failure.stderr).toMatch(
      /^gl-rl: SFT config: batchSize = 0 is invalid \(hint: set batchSize to an integer ≥ 1\)\n$/,
    );
    const missing = (await run("node", ["bin/gl-rl.mjs", "train", "sft", "--config", join(dir, "nope.json")]).catch(
      (e: unknown) => e,
    )) as { code: number; stderr: string };
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/config file not found/);
  }, 60_000);
});
