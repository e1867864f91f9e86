import { afterAll, describe, expect, it } from "@jest/globals";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Completion, Prompt } from "../../models/textGenerator.js";
import { executionMatchReward } from "../../rewards/executionMatchReward.js";
import { createWeightedReward } from "../../rewards/weightedReward.js";
import { FakePolicy } from "../fakePolicy.js";
import { resolveGrpoConfig, type GrpoConfig } from "./grpoConfig.js";
import type { GrpoSampler } from "./grpoStep.js";
import { logsCompletions, trainGrpo } from "./grpoTrainer.js";

const dir = mkdtempSync(join(tmpdir(), "grpo-train-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Samples from the fake policy's own unigram distribution (token 1 = right answer, 2 = wrong). */
function policySampler(policy: FakePolicy): GrpoSampler & { adapters: string[] } {
  const adapters: string[] = [];
  return {
    adapters,
    async generateCandidates(_prompt: Prompt, n: number, params = {}): Promise<Completion[]> {
      const [lpRight, lpWrong] = await policy
        .logprobs([{ tokens: [1, 2], completionStart: 0 }])
        .then((r) => Array.from(r[0]!));
      const pRight = Math.exp(lpRight!) / (Math.exp(lpRight!) + Math.exp(lpWrong!));
      return Array.from({ length: n }, (_, i) => {
        const u = ((params.seeds?.[i] ?? i) * 0.6180339887) % 1; // deterministic per seed
        const token = u < pRight ? 1 : 2;
        return {
          text: token === 1 ? "right" : "wrong",
          tokens: [token],
          logprobs: [],
          finishReason: "eos",
          timings: { promptMs: 0, generateMs: 0, tokensPerSecond: 0 },
          adapter: null,
        };
      });
    },
    async setAdapter(path: string) {
      adapters.push(path);
    },
  };
}

function run(
  policy: FakePolicy,
  outDir: string,
  extra: { stopAfterSteps?: number; promptStats?: Record<string, number> } = {},
  overrides: Partial<GrpoConfig> = {},
) {
  const reward = createWeightedReward({ components: { m: { fn: executionMatchReward, weight: 1 } } });
  const sampler = policySampler(policy);
  return {
    sampler,
    result: trainGrpo({
      policy,
      sampler,
      prompts: Array.from({ length: 4 }, (_, i) => ({
        id: `p${i}`,
        question: `q${i}`,
        goldSql: "right",
        prompt: { text: `q${i}` },
        promptTokens: [0],
      })),
      config: resolveGrpoConfig({
        groupSize: 4,
        promptsPerStep: 2,
        maxSteps: 6,
        learningRate: 2,
        beta: 0.01,
        checkpointEvery: 1,
        evalEvery: 3,
        outDir,
        ...overrides,
      }),
      extractSql: (t) => t,
      scoreRewards: async (c) => reward(c.map((x) => ({ ...x, match: x.sql === x.goldSql }))),
      evaluate: async () => ({
        execution_accuracy: Math.exp((await policy.logprobs([{ tokens: [1], completionStart: 0 }]))[0]![0]!),
      }),
      ...extra,
    }),
  };
}

describe("trainGrpo (fake policy)", () => {
  it("raises the reward, logs every step and eval, writes the final adapter", async () => {
    const policy = new FakePolicy(4);
    const { result, sampler } = run(policy, join(dir, "a"));
    const r = await result;
    const lines = readFileSync(r.metricsPath, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, number | boolean>);
    const steps = lines.filter((l) => l.eval !== true);
    expect(steps).toHaveLength(6);
    expect(lines.filter((l) => l.eval === true).map((l) => l.step)).toEqual([0, 3, 6]);
    const evals = lines.filter((l) => l.eval === true).map((l) => l.execution_accuracy as number);
    expect(evals[2]!).toBeGreaterThan(evals[0]!);
    expect(r.adapterPath).toBe(join(dir, "a", "adapter.gguf"));
    expect(existsSync(r.adapterPath)).toBe(true);
    expect(new Set(sampler.adapters).size).toBe(6); // a new adapter path every step
  });

  it("maxMinutes: starts no step after the budget, then evaluates and writes the final adapter", async () => {
    const policy = new FakePolicy(4);
    const slow = run(policy, join(dir, "timed"), {}, { maxSteps: 1000, maxMinutes: 0.5 / 60 }); // 0.5 s
    const generate = slow.sampler.generateCandidates.bind(slow.sampler);
    slow.sampler.generateCandidates = async (...args: Parameters<typeof generate>) => {
      await new Promise((r) => setTimeout(r, 100));
      return generate(...args);
    };
    const t0 = performance.now();
    const r = await slow.result;
    expect(r.steps).toBeGreaterThanOrEqual(2);
    expect(r.steps).toBeLessThan(20);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(r.adapterPath).toBe(join(dir, "timed", "adapter.gguf"));
    expect(existsSync(r.adapterPath)).toBe(true);
    const lines = readFileSync(r.metricsPath, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, number | boolean>);
    expect(lines.filter((l) => l.eval === true).at(-1)!.step).toBe(r.steps); // the final evaluation
  });

  it("completions.jsonl: every completion of step 1 and every logCompletionsEvery-th step, once each across a kill", async () => {
    const read = (path: string) =>
      readFileSync(path, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const killed = new FakePolicy(4);
    const first = await run(
      killed,
      join(dir, "completions"),
      { stopAfterSteps: 3, promptStats: { total: 5, used: 4, emptyGold: 1 } },
      { logCompletionsEvery: 2 },
    ).result;
    expect(read(first.completionsPath).map((l) => l.step)).toEqual([...Array(8).fill(1), ...Array(8).fill(2)]);
    // Killed after step 3 with the checkpoint of step 3: the resumed run logs steps 4 and 6.
    const r = await run(
      new FakePolicy(4),
      join(dir, "completions"),
      { promptStats: { total: 5, used: 4, emptyGold: 1 } },
      { logCompletionsEvery: 2 },
    ).result;
    expect(r.resumedFrom).toBe(3);
    const lines = read(r.completionsPath);
    expect(lines.map((l) => l.step)).toEqual([1, 2, 4, 6].flatMap((s) => Array(8).fill(s)));
    expect(lines[0]).toMatchObject({
      completion: expect.stringMatching(/right|wrong/),
      finishReason: "eos",
      masked: false,
    });
    expect(lines.every((l) => typeof l.prompt === "string" && /^p[0-3]$/.test(l.prompt as string))).toBe(true);
    expect(lines.every((l) => typeof l.advantage === "number" && typeof l.reward === "number")).toBe(true);
    expect(lines.every((l) => (l.rewards as Record<string, unknown>).m === (l.sql === "right" ? 1 : 0))).toBe(true);
    // The prompt statistics are logged once, at step 0 of the fresh run.
    const metrics = read(r.metricsPath).filter((l) => l.prompts !== undefined);
    expect(metrics).toEqual([expect.objectContaining({ step: 0, prompts: { total: 5, used: 4, emptyGold: 1 } })]);
  });

  it("logsCompletions: step 1 and every N-th; never with N = 0", () => {
    expect([1, 2, 3, 10, 11, 20].filter((s) => logsCompletions(s, 10))).toEqual([1, 10, 20]);
    expect([1, 2, 10].filter((s) => logsCompletions(s, 0))).toEqual([]);
  });

  it("resumes after a simulated kill with the same weights as an uninterrupted run", async () => {
    const straight = new FakePolicy(4);
    await run(straight, join(dir, "straight")).result;
    const killed = new FakePolicy(4);
    expect((await run(killed, join(dir, "killed"), { stopAfterSteps: 4 }).result).steps).toBe(4);
    const revived = new FakePolicy(4);
    const second = run(revived, join(dir, "killed"));
    const r = await second.result;
    expect(r.resumedFrom).toBe(4);
    expect(second.sampler.adapters[0]).toBe(join(dir, "killed", "adapters", "adapter-4.gguf")); // the checkpoint's adapter is swapped back in
    Array.from(straight.theta).forEach((t, v) => {
      expect(revived.theta[v]).toBeCloseTo(t, 10);
    });
  });
});
