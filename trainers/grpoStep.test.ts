import { afterAll, describe, expect, it } from "@jest/globals";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LoadedModel } from "../models/loadModel.js";
import type { Completion, Prompt } from "../models/textGenerator.js";
import { executionMatchReward } from "../rewards/executionMatchReward.js";
import { createWeightedReward } from "../rewards/weightedReward.js";
import { FakePolicy } from "./fakePolicy.js";
import { resolveGrpoConfig } from "./grpoConfig.js";
import { grpoStep, type GrpoSampler } from "./grpoStep.js";

// Vocabulary: 0..5 are "words"; completion [1, 2] spells the right SQL, everything else is wrong.
const WORDS = ["<p>", "SELECT", "1", "2", "FROM", "x"];
const dir = mkdtempSync(join(tmpdir(), "grpo-step-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A sampler that cycles through fixed completions and records adapter swaps. */
function fakeSampler(completions: number[][]): GrpoSampler & { adapters: string[]; calls: number } {
  const sampler = {
    adapters: [] as string[],
    calls: 0,
    async generateCandidates(_prompt: Prompt, n: number): Promise<Completion[]> {
      sampler.calls += 1;
      return Array.from({ length: n }, (_, i) => {
        const tokens = completions[i % completions.length]!;
        return {
          text: tokens.map((t) => WORDS[t]).join(" "),
          tokens,
          logprobs: [],
          finishReason: "eos",
          timings: { promptMs: 0, generateMs: 0, tokensPerSecond: 0 },
          adapter: null,
        };
      });
    },
    async setAdapter(path: string) {
      sampler.adapters.push(path);
      return path;
    },
  };
  return sampler;
}

describe("grpoStep (fake policy, fake sampler)", () => {
  it("raises the log-probs of positively-advantaged completions and swaps a new adapter in", async () => {
    const policy = new FakePolicy(WORDS.length);
    const sampler = fakeSampler([
      [1, 2],
      [1, 3],
      [4, 5],
      [1, 2],
    ]);
    const reward = createWeightedReward({ components: { execution_match: { fn: executionMatchReward, weight: 1 } } });
    const config = resolveGrpoConfig({
      groupSize: 4,
      promptsPerStep: 2,
      learningRate: 0.5,
      beta: 0.04,
      maxGradNorm: 0,
    });
    const deps = {
      policy,
      sampler,
      extractSql: (text: string) => (text.startsWith("SELECT") ? text : null),
      scoreRewards: async (cands: { sql: string | null; goldSql?: string }[]) =>
        reward(
          cands.map((c) => ({
            question: "q",
            completion: c.sql ?? "",
            sql: c.sql,
            goldSql: c.goldSql!,
            match: c.sql === c.goldSql,
          })),
        ),
      adapterPath: (step: number) => join(dir, `adapter-${step}.json`),
    };
    const prompts = [
      { question: "one", goldSql: "SELECT 1", prompt: { text: "one" }, promptTokens: [0] },
      { question: "other", goldSql: "SELECT 1", prompt: { text: "other" }, promptTokens: [0] },
    ];
    const good = [{ tokens: [0, 1, 2], completionStart: 1 }];
    const bad = [{ tokens: [0, 4, 5], completionStart: 1 }];
    const before = { good: (await policy.logprobs(good))[0]!, bad: (await policy.logprobs(bad))[0]! };

    const m = await grpoStep(0, prompts, deps, config);

    const after = { good: (await policy.logprobs(good))[0]!, bad: (await policy.logprobs(bad))[0]! };
    expect(after.good[1]!).toBeGreaterThan(before.good[1]!); // token "1": only in rewarded completions
    expect(after.bad[0]! + after.bad[1]!).toBeLessThan(before.bad[0]! + before.bad[1]!);
    expect(m.rewardMean).toBeCloseTo(0.5, 10);
    expect(m.rewardComponents.execution_match).toEqual({ mean: 0.5, std: 0.5 });
    expect(m.zeroVarianceGroups).toBe(0);
    expect(m.clipFraction).toBe(0); // μ = 1: ρ = 1 everywhere
    expect(m.klMean).toBe(0); // θ = reference (0) before the update
    expect(m.gradNorm).toBeGreaterThan(0);
    expect(m.completionLengthMean).toBe(2);
    expect(sampler.adapters).toEqual([join(dir, "adapter-0.json")]);
    expect(policy.saved).toEqual(sampler.adapters);
    expect(sampler.calls).toBe(2);
  });

  it("counts zero-variance groups and leaves θ unchanged by them when β = 0", async () => {
    const policy = new FakePolicy(WORDS.length);
    const sampler = fakeSampler([[1, 2]]);
    const reward = createWeightedReward({ components: { m: { fn: executionMatchReward, weight: 1 } } });
    const m = await grpoStep(
      3,
      [{ question: "q", goldSql: "SELECT 1", prompt: { text: "q" }, promptTokens: [0] }],
      {
        policy,
        sampler,
        extractSql: (t) => t,
        scoreRewards: async (c) => reward(c.map((x) => ({ ...x, match: x.sql === x.goldSql }))),
        adapterPath: (step) => join(dir, `zero-${step}.json`),
      },
      resolveGrpoConfig({ groupSize: 2, beta: 0, iterations: 2 }),
    );
    expect(m.zeroVarianceGroups).toBe(1);
    expect(m.gradNorm).toBe(0);
    expect(Array.from(policy.theta)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(policy.steps).toBe(2);
    expect(m.adapter).toBe(join(dir, "zero-3.json"));
  });
});

describe("grpoStep DAPO resampling", () => {
  it("resamples zero-variance groups until they carry signal", async () => {
    const policy = new FakePolicy(WORDS.length);
    let call = 0;
    const sampler: GrpoSampler = {
      async generateCandidates(_p, n) {
        call += 1;
        // first round: all wrong (zero variance); second round: one right.
        const rows =
          call === 1
            ? [[4, 5]]
            : [
                [1, 2],
                [4, 5],
              ];
        return Array.from({ length: n }, (_, i) => ({
          text: rows[i % rows.length]!.map((t) => WORDS[t]).join(" "),
          tokens: rows[i % rows.length]!,
          logprobs: [],
          finishReason: "eos" as const,
          timings: { promptMs: 0, generateMs: 0, tokensPerSecond: 0 },
          adapter: null,
        }));
      },
      async setAdapter() {},
    };
    const reward = createWeightedReward({ components: { m: { fn: executionMatchReward, weight: 1 } } });
    const m = await grpoStep(
      0,
      [{ question: "q", goldSql: "SELECT 1", prompt: { text: "q" }, promptTokens: [0] }],
      {
        policy,
        sampler,
        extractSql: (t) => t,
        scoreRewards: async (c) => reward(c.map((x) => ({ ...x, match: x.sql === x.goldSql }))),
        adapterPath: (s) => join(dir, `dapo-${s}.json`),
      },
      resolveGrpoConfig({ groupSize: 2, beta: 0, resampleZeroVarianceRounds: 2 }),
    );
    expect(call).toBe(2);
    expect(m.zeroVarianceGroupsSampled).toBe(1);
    expect(m.zeroVarianceGroups).toBe(0);
    expect(m.rewardMean).toBeCloseTo(0.5, 12);
    expect(m.gradNorm).toBeGreaterThan(0);
  });
});

describe("grpoStep DAPO dynamic sampling with a reserve", () => {
  it("replaces a zero-variance group by the next reserve prompt and trains on that prompt's tokens", async () => {
    const policy = new FakePolicy(WORDS.length);
    const asked: string[] = [];
    const sampler: GrpoSampler = {
      async generateCandidates(p, n) {
        const text = "text" in p ? p.text : "";
        asked.push(text);
        // "easy" is always solved (zero variance); "hard" half of the time.
        const rows =
          text === "easy"
            ? [[1, 2]]
            : [
                [1, 2],
                [4, 5],
              ];
        return Array.from({ length: n }, (_, i) => ({
          text: rows[i % rows.length]!.map((t) => WORDS[t]).join(" "),
          tokens: rows[i % rows.length]!,
          logprobs: [],
          finishReason: "eos" as const,
          timings: { promptMs: 0, generateMs: 0, tokensPerSecond: 0 },
          adapter: null,
        }));
      },
      async setAdapter() {},
    };
    const seen: number[][] = [];
    const accumulate = policy.accumulateGradients.bind(policy);
    policy.accumulateGradients = async (batch, coefficients, options) => {
      seen.push(...batch.map((b) => b.tokens));
      return accumulate(batch, coefficients, options);
    };
    const reward = createWeightedReward({ components: { m: { fn: executionMatchReward, weight: 1 } } });
    const prompt = (text: string, token: number) => ({
      question: text,
      goldSql: "SELECT 1",
      prompt: { text },
      promptTokens: [token],
    });
    const m = await grpoStep(
      0,
      [prompt("easy", 0)],
      {
        policy,
        sampler,
        extractSql: (t) => t,
        scoreRewards: async (c) => reward(c.map((x) => ({ ...x, match: x.sql === x.goldSql }))),
        adapterPath: (s) => join(dir, `reserve-${s}.json`),
      },
      resolveGrpoConfig({ groupSize: 2, beta: 0, resampleZeroVarianceRounds: 3 }),
      [prompt("hard", 3), prompt("unused", 0)],
    );
    expect(asked).toEqual(["easy", "hard"]);
    expect(m.zeroVarianceGroupsSampled).toBe(1);
    expect(m.zeroVarianceGroups).toBe(0);
    expect(seen.map((t) => t[0])).toEqual([3, 3]); // the replacement prompt's tokens, not the dropped one's
    expect(m.gradNorm).toBeGreaterThan(0);
  });
});

// Compile-time check: the real sampler (models/loadModel.ts) satisfies the step's sampler interface.
type LoadedModelIsAGrpoSampler = LoadedModel extends GrpoSampler ? true : never;
const loadedModelIsAGrpoSampler: LoadedModelIsAGrpoSampler = true;
void loadedModelIsAGrpoSampler;
