import { afterAll, describe, expect, it } from "@jest/globals";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LoadedModel } from "../../models/loadModel.js";
import type { Completion, Prompt } from "../../models/textGenerator.js";
import { executionMatchReward } from "../../rewards/executionMatchReward.js";
import { createWeightedReward } from "../../rewards/weightedReward.js";
import { FakePolicy } from "../fakePolicy.js";
import { groupAdvantages } from "./groupAdvantages.js";
import { resolveGrpoConfig, type GrpoConfig } from "./grpoConfig.js";
import { grpoLoss } from "./grpoLoss.js";
import { grpoStep, type GrpoCompletionRecord, type GrpoSampler } from "./grpoStep.js";
import type { PolicyBackend } from "../policyBackend.js";

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

describe("grpoStep with a sampler that brings its own log-probs (rollout servers)", () => {
  /** Completions [1, 2] / [1, 3], each token's sampler log-prob the uniform one shifted by ln 3 and −ln 2. */
  function remoteSampler(logprobs: (n: number) => number[]): GrpoSampler {
    return {
      samplingLogprobs: true,
      async generateCandidates(_p, n) {
        return Array.from({ length: n }, (_, i) => ({
          text: i % 2 === 0 ? "SELECT 1" : "SELECT 2",
          tokens: [1, i % 2 === 0 ? 2 : 3],
          logprobs: logprobs(i),
          finishReason: "eos" as const,
          timings: { promptMs: 0, generateMs: 0, tokensPerSecond: 0 },
          adapter: "/runs/x/adapters/adapter-3.gguf",
        }));
      },
      async setAdapter() {},
    };
  }
  const uniform = -Math.log(WORDS.length); // FakePolicy at θ = 0
  const stepWith = (sampler: GrpoSampler, records?: GrpoCompletionRecord[]) =>
    grpoStep(
      0,
      [{ question: "q", goldSql: "SELECT 1", prompt: { text: "q" }, promptTokens: [0] }],
      {
        policy: new FakePolicy(WORDS.length),
        sampler,
        extractSql: (t) => t,
        scoreRewards: async (c) =>
          createWeightedReward({ components: { m: { fn: executionMatchReward, weight: 1 } } })(
            c.map((x) => ({ ...x, match: x.sql === x.goldSql })),
          ),
        adapterPath: (step) => join(dir, `remote-${step}.json`),
        ...(records ? { recordCompletions: (r: GrpoCompletionRecord[]) => records.push(...r) } : {}),
      },
      resolveGrpoConfig({ groupSize: 2, beta: 0 }),
    );

  it("weights each token by min(π_old/π_sampler, cap), logs the ratios, and records the adapter that sampled", async () => {
    const records: GrpoCompletionRecord[] = [];
    const m = await stepWith(
      remoteSampler(() => [uniform - Math.log(3), uniform + Math.log(2)]),
      records,
    );
    expect(m.sampling).toEqual({
      ratioMean: expect.closeTo((2 + 0.5) / 2, 6) as unknown as number,
      ratioMin: expect.closeTo(0.5, 6) as unknown as number,
      ratioMax: 2, // 3, cut to the default cap
      cappedFraction: 0.5,
      logpDiffMean: expect.closeTo((Math.log(3) + Math.log(2)) / 2, 6) as unknown as number,
      logpDiffMax: expect.closeTo(Math.log(3), 6) as unknown as number,
    });
    expect(records.map((r) => r.adapter)).toEqual([
      "/runs/x/adapters/adapter-3.gguf",
      "/runs/x/adapters/adapter-3.gguf",
    ]);
    // The in-process sampler (no samplingLogprobs) is not corrected.
    expect(
      (
        await stepWith(
          fakeSampler([
            [1, 2],
            [1, 3],
          ]),
        )
      ).sampling,
    ).toBeUndefined();
  });

  it("a completion without a log-prob for each token is an InputError that names the server's duty", async () => {
    await expect(stepWith(remoteSampler(() => [uniform]))).rejects.toThrow(/has 2 tokens but 1 sampler log-probs/);
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

/** Every call the step makes on a FakePolicy: options, and each coefficient function's input and output. */
function spyPolicy(inner: FakePolicy) {
  const calls = {
    logprobs: [] as { reference?: boolean; temperature?: number }[],
    accumulate: [] as { temperature: number | undefined; logprobs: Float32Array[]; coefficients: Float32Array[] }[],
    arrays: 0,
  };
  const policy: PolicyBackend = {
    trainable: inner.trainable,
    logprobs: (b, o) => {
      calls.logprobs.push({ ...o });
      return inner.logprobs(b, o);
    },
    accumulateGradients: (b, c, o) => {
      if (typeof c !== "function") {
        calls.arrays += 1;
        return inner.accumulateGradients(b, c, o);
      }
      return inner.accumulateGradients(
        b,
        (logprobs) => {
          const coefficients = c(logprobs.map((row) => row.slice()));
          calls.accumulate.push({ temperature: o?.temperature, logprobs, coefficients });
          return coefficients;
        },
        o,
      );
    },
    step: (o) => inner.step(o),
    saveWeights: (p) => inner.saveWeights(p),
    saveCheckpoint: (p) => inner.saveCheckpoint(p),
    loadCheckpoint: (p) => inner.loadCheckpoint(p),
    dispose: () => inner.dispose(),
  };
  return { policy, calls };
}

/** A sampler of fixed completions: tokens, and whether each was cut at the token limit. */
function scriptedSampler(rows: { tokens: number[]; truncated?: boolean }[]): GrpoSampler {
  return {
    async generateCandidates(_p, n) {
      return Array.from({ length: n }, (_, i) => {
        const row = rows[i % rows.length]!;
        return {
          text: row.tokens.map((t) => WORDS[t]).join(" "),
          tokens: row.tokens,
          logprobs: [],
          finishReason: row.truncated ? ("maxTokens" as const) : ("eos" as const),
          timings: { promptMs: 0, generateMs: 0, tokensPerSecond: 0 },
          adapter: null,
        };
      });
    },
    async setAdapter() {},
  };
}

describe("grpoStep: what the policy is asked (temperature, π_old, coefficients, masking)", () => {
  // Right answer "SELECT 1" = [1, 2]; [1, 3, 3] is cut at the token limit; the rest are wrong.
  const rows = [{ tokens: [1, 2] }, { tokens: [1, 3, 3], truncated: true }, { tokens: [4, 5] }, { tokens: [1, 2, 0] }];
  const prompts = [
    { id: "a", question: "qa", goldSql: "SELECT 1", prompt: { text: "qa" }, promptTokens: [0] },
    { id: "b", question: "qb", goldSql: "SELECT 1", prompt: { text: "qb" }, promptTokens: [0, 5] },
  ];
  const theta = [0.2, -0.4, 0.7, 0.1, -0.3, 0.5];
  const run = async (overrides: Partial<GrpoConfig>) => {
    const inner = new FakePolicy(WORDS.length, theta);
    const { policy, calls } = spyPolicy(inner);
    const reward = createWeightedReward({ components: { execution_match: { fn: executionMatchReward, weight: 1 } } });
    const records: GrpoCompletionRecord[] = [];
    let totals: number[] = [];
    const config = resolveGrpoConfig({
      groupSize: 4,
      promptsPerStep: 2,
      learningRate: 0.3,
      maxGradNorm: 0,
      temperature: 0.6,
      beta: 0.04,
      ...overrides,
    });
    const metrics = await grpoStep(
      0,
      prompts,
      {
        policy,
        sampler: scriptedSampler(rows),
        extractSql: (text) => text,
        scoreRewards: async (c) => {
          const r = await reward(c.map((x) => ({ ...x, match: x.sql === x.goldSql })));
          totals = r.totals;
          return r;
        },
        adapterPath: (s) => join(dir, `spy-${s}.json`),
        recordCompletions: (r) => records.push(...r),
      },
      config,
    );
    const batch = prompts.flatMap((p) =>
      [0, 1, 2, 3].map((i) => ({
        tokens: [...p.promptTokens, ...rows[i]!.tokens],
        completionStart: p.promptTokens.length,
      })),
    );
    const reference = await new FakePolicy(WORDS.length, theta).logprobs(batch, { reference: true, temperature: 0.6 });
    return { inner, calls, metrics, records, totals, config, batch, reference };
  };

  it("passes the sampling temperature to the reference and every training forward", async () => {
    const { calls, batch } = await run({ iterations: 2 });
    expect(calls.logprobs).toEqual([{ reference: true, temperature: 0.6 }]);
    expect(calls.accumulate.map((c) => c.temperature)).toEqual([0.6, 0.6]);
    // …and the log-probs the loss saw are the policy's at T = 0.6, not at T = 1.
    const atT = await new FakePolicy(WORDS.length, theta).logprobs(batch, { temperature: 0.6 });
    const atOne = await new FakePolicy(WORDS.length, theta).logprobs(batch, { temperature: 1 });
    expect(calls.accumulate[0]!.logprobs).toEqual(atT);
    expect(calls.accumulate[0]!.logprobs).not.toEqual(atOne);
  });

  it("μ = 3: one forward + one backward per iteration, π_old = the first forward (not recomputed), coefficients = grpoLoss's", async () => {
    const { inner, calls, metrics, totals, config, reference } = await run({ iterations: 3 });
    expect(calls.arrays).toBe(0);
    expect(calls.accumulate).toHaveLength(3);
    expect(inner.forwardPasses).toBe(3); // no separate π_old forward
    expect(calls.logprobs.filter((c) => !c.reference)).toHaveLength(0);
    const old = calls.accumulate[0]!.logprobs;
    expect(calls.accumulate[2]!.logprobs).not.toEqual(old); // θ moved, so a recomputed π_old would differ
    const { advantages } = groupAdvantages(totals, { groupSize: 4 });
    const masked = [false, true, false, false, false, true, false, false];
    for (const { logprobs, coefficients } of calls.accumulate) {
      const expected = grpoLoss(
        { logprobs, oldLogprobs: old, refLogprobs: reference, advantages, masked },
        { lossType: config.lossType, epsilonLow: 0.2, epsilonHigh: 0.28, beta: 0.04, maxCompletionLength: 128 },
      );
      expect(coefficients).toEqual(expected.coefficients);
    }
    expect(metrics.klMean).toBeGreaterThan(0); // after two updates the policy left the reference
    expect(metrics.clipFraction).toBeGreaterThanOrEqual(0);
  });

  it("KL is exactly 0 at the first iteration: the reference is the starting policy", async () => {
    const { metrics, calls, reference } = await run({ iterations: 1 });
    expect(calls.accumulate[0]!.logprobs).toEqual(reference);
    expect(metrics.klMean).toBe(0);
  });

  it("masks truncated completions (no loss, share logged) and trains on them when maskTruncatedCompletions is false", async () => {
    const masked = await run({});
    expect(masked.metrics.truncatedFraction).toBe(0.25);
    const c = masked.calls.accumulate[0]!.coefficients;
    expect(Array.from(c[1]!)).toEqual([0, 0, 0]);
    expect(Array.from(c[5]!)).toEqual([0, 0, 0]);
    expect(Array.from(c[0]!).some((x) => x !== 0)).toBe(true);
    const unmasked = await run({ maskTruncatedCompletions: false });
    expect(unmasked.metrics.truncatedFraction).toBe(0.25);
    expect(Array.from(unmasked.calls.accumulate[0]!.coefficients[1]!).some((x) => x !== 0)).toBe(true);
  });

  it("hands the batch's completions to recordCompletions: prompt id, SQL, reward per component, advantage", async () => {
    const { records, totals } = await run({});
    const { advantages } = groupAdvantages(totals, { groupSize: 4 });
    expect(records).toHaveLength(8);
    expect(records.map((r) => r.prompt)).toEqual(["a", "a", "a", "a", "b", "b", "b", "b"]);
    expect(records[0]).toEqual({
      prompt: "a",
      question: "qa",
      completion: "SELECT 1",
      sql: "SELECT 1",
      finishReason: "eos",
      tokens: 2,
      reward: 1,
      rewards: { execution_match: 1 },
      advantage: advantages[0],
      masked: false,
      adapter: null,
    });
    expect(records[1]).toMatchObject({ finishReason: "maxTokens", masked: true, reward: 0 });
    expect(records.map((r) => r.advantage)).toEqual(advantages);
  });
});

// Compile-time check: the real sampler (models/loadModel.ts) satisfies the step's sampler interface.
type LoadedModelIsAGrpoSampler = LoadedModel extends GrpoSampler ? true : never;
const loadedModelIsAGrpoSampler: LoadedModelIsAGrpoSampler = true;
void loadedModelIsAGrpoSampler;
