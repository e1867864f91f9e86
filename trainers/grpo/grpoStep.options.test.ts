/**
 * Every option of docs/grpo.md's table that reaches the loss or the policy, one at a time, through `grpoStep`
 * (fake policy, scripted sampler) with a NON-default value. What the policy receives — the coefficients of every
 * iteration, the loss, the temperature of every forward, the AdamW options, the sampler's parameters — is checked
 * against an independent computation written here, not against grpoLoss or groupAdvantages:
 *
 *   advantages   by hand: group mean, unbiased std (torch.std), + 1e-4, per scaleRewards; all-equal group → 0
 *   loss         TRL's `_compute_loss` restated on plain arrays: coef_1 = exp(log ratio) (token) or exp(mean log
 *                ratio) (sequence), coef_2 = clamp(coef_1, 1 − ε_low, 1 + ε_high), −min(coef_1·A, coef_2·A)
 *                + β·k3, aggregated by lossType with the completion mask
 *   coefficients central finite differences of that loss in every log-prob
 *
 * and, where the option can change the numbers in this fixture, the numbers the DEFAULT value gives must differ
 * from what the policy got — so a test fails when the option's pass-through is dropped (bnpo and dapo are the
 * same number by definition, see docs/grpo.md; that one cannot).
 */
import { describe, expect, it } from "@jest/globals";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Completion } from "../../models/textGenerator.js";
import { FakePolicy } from "../fakePolicy.js";
import { DEFAULT_GRPO_CONFIG, resolveGrpoConfig, type GrpoConfig } from "./grpoConfig.js";
import { grpoStep, type GrpoSampler } from "./grpoStep.js";
import type { PolicyBackend, StepOptions, TokenSequence } from "../policyBackend.js";

const dir = mkdtempSync(join(tmpdir(), "grpo-options-"));
const WORDS = ["<p>", "SELECT", "1", "2", "FROM", "x"];
/** The completions every group gets, in order (cycled); the second is cut at the token limit. */
const ROWS = [{ tokens: [1, 2] }, { tokens: [1, 3, 3], truncated: true }, { tokens: [4, 5] }, { tokens: [1, 2, 0] }];
const textOf = (tokens: number[]) => tokens.map((t) => WORDS[t]).join(" ");
/** Reward by (question, completion text): groups with different stds, so group / batch / none scale differently. */
const REWARDS: Record<string, Record<string, number>> = {
  qa: { "SELECT 1": 1, "SELECT 2 2": 0.2, "FROM x": 0, "SELECT 1 <p>": 0.5 },
  qb: { "SELECT 1": 0.1, "SELECT 2 2": 0.9, "FROM x": 0.4, "SELECT 1 <p>": 0.3 },
};
const PROMPTS = [
  { id: "a", question: "qa", goldSql: "SELECT 1", prompt: { text: "qa" }, promptTokens: [0] },
  { id: "b", question: "qb", goldSql: "SELECT 1", prompt: { text: "qb" }, promptTokens: [0, 5] },
];
const THETA = [0.2, -0.4, 0.7, 0.1, -0.3, 0.5];
/** The fixture's base: large steps (ratios leave the clip range at iteration 2), everything else as by default. */
const BASE: Partial<GrpoConfig> = { groupSize: 4, promptsPerStep: 2, iterations: 2, learningRate: 3, maxGradNorm: 0 };

type SamplerCall = { n: number; temperatures?: number[]; seeds?: number[]; maxTokens?: number };

/** One step with `overrides` over BASE; every call the step makes on the policy and the sampler, recorded. */
async function runStep(overrides: Partial<GrpoConfig>, step = 0) {
  const config = resolveGrpoConfig({ ...BASE, ...overrides });
  const inner = new FakePolicy(WORDS.length, THETA);
  const seen = {
    sampler: [] as SamplerCall[],
    logprobs: [] as { reference?: boolean; temperature?: number }[],
    forwards: [] as { temperature?: number; logprobs: number[][]; coefficients: number[][] }[],
    steps: [] as StepOptions[],
  };
  const policy: PolicyBackend = {
    trainable: "all",
    logprobs: (b, o) => {
      seen.logprobs.push({ ...o });
      return inner.logprobs(b, o);
    },
    accumulateGradients: (b, c, o) => {
      if (typeof c !== "function") throw new Error("the step passes a coefficient function");
      return inner.accumulateGradients(
        b,
        (logprobs) => {
          const coefficients = c(logprobs.map((row) => row.slice()));
          seen.forwards.push({
            ...(o?.temperature === undefined ? {} : { temperature: o.temperature }),
            logprobs: logprobs.map((row) => Array.from(row)),
            coefficients: coefficients.map((row) => Array.from(row)),
          });
          return coefficients;
        },
        o,
      );
    },
    step: (o) => {
      seen.steps.push({ ...o });
      return inner.step(o);
    },
    saveWeights: (p) => inner.saveWeights(p),
    saveCheckpoint: (p) => inner.saveCheckpoint(p),
    loadCheckpoint: (p) => inner.loadCheckpoint(p),
    dispose: () => inner.dispose(),
  };
  const sampler: GrpoSampler = {
    async generateCandidates(_p, n, params = {}) {
      seen.sampler.push({
        n,
        ...(params.temperatures ? { temperatures: params.temperatures } : {}),
        ...(params.seeds ? { seeds: params.seeds } : {}),
        ...(params.maxTokens === undefined ? {} : { maxTokens: params.maxTokens }),
      });
      return Array.from({ length: n }, (_, i): Completion => {
        const row = ROWS[i % ROWS.length]!;
        return {
          text: textOf(row.tokens),
          tokens: row.tokens,
          logprobs: [],
          finishReason: row.truncated ? "maxTokens" : "eos",
          timings: { promptMs: 0, generateMs: 0, tokensPerSecond: 0 },
          adapter: null,
        };
      });
    },
    async setAdapter() {},
  };
  const metrics = await grpoStep(
    step,
    PROMPTS,
    {
      policy,
      sampler,
      extractSql: (text) => text,
      scoreRewards: async (candidates) => ({
        totals: candidates.map((c) => REWARDS[c.question]![c.completion]!),
        components: {},
      }),
      adapterPath: (s) => join(dir, `options-${Object.keys(overrides).join("-")}-${s}.json`),
    },
    config,
  );
  // What the fixture samples, computed here: [P·G] completions, rewards and truncation.
  const G = config.groupSize;
  const rows = PROMPTS.flatMap((p) => Array.from({ length: G }, (_, i) => ({ p, row: ROWS[i % ROWS.length]! })));
  const batch: TokenSequence[] = rows.map(({ p, row }) => ({
    tokens: [...p.promptTokens, ...row.tokens],
    completionStart: p.promptTokens.length,
  }));
  const reference = (
    await new FakePolicy(WORDS.length, THETA).logprobs(batch, { reference: true, temperature: config.temperature })
  ).map((row) => Array.from(row));
  const fixture = {
    rewards: rows.map(({ p, row }) => REWARDS[p.question]![textOf(row.tokens)]!),
    truncated: rows.map(({ row }) => row.truncated === true),
    reference,
  };
  return { config, seen, metrics, fixture };
}

// ─── the independent computation ──────────────────────────────────────────────────────────────────────

function handAdvantages(rewards: number[], G: number, scale: GrpoConfig["scaleRewards"]): number[] {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
  return rewards.map((r, i) => {
    const group = rewards.slice(Math.floor(i / G) * G, Math.floor(i / G) * G + G);
    if (std(group) < 1e-12) return 0;
    const divisor = scale === "group" ? std(group) + 1e-4 : scale === "batch" ? std(rewards) + 1e-4 : 1;
    return (r - mean(group)) / divisor;
  });
}

type LossOptions = Pick<
  GrpoConfig,
  | "lossType"
  | "importanceSampling"
  | "epsilonLow"
  | "epsilonHigh"
  | "beta"
  | "maxCompletionTokens"
  | "scaleRewards"
  | "groupSize"
  | "maskTruncatedCompletions"
>;

/** TRL's _compute_loss (see the file comment) at log-probs `lp`, [B][n_i]. */
function trlLoss(lp: number[][], old: number[][], ref: number[][], A: number[], mask: boolean[], o: LossOptions) {
  const perSequence = lp.map((row, i) => {
    const logRatio = row.map((x, t) => x - old[i]![t]!);
    const sequenceLogRatio = logRatio.reduce((a, b) => a + b, 0) / Math.max(1, row.length);
    const losses = row.map((x, t) => {
      const coef1 = Math.exp(o.importanceSampling === "sequence" ? sequenceLogRatio : logRatio[t]!);
      const coef2 = Math.min(Math.max(coef1, 1 - o.epsilonLow), 1 + o.epsilonHigh);
      const d = ref[i]![t]! - x;
      return -Math.min(coef1 * A[i]!, coef2 * A[i]!) + o.beta * (Math.exp(d) - d - 1);
    });
    return mask[i] ? losses.reduce((a, b) => a + b, 0) : 0;
  });
  const B = lp.length;
  const tokens = lp.reduce((a, row, i) => a + (mask[i] ? row.length : 0), 0);
  const sum = perSequence.reduce((a, b) => a + b, 0);
  if (o.lossType === "grpo")
    return perSequence.reduce((a, s, i) => a + s / (mask[i] ? Math.max(1, lp[i]!.length) : 1), 0) / B;
  if (o.lossType === "dr_grpo") return sum / (B * o.maxCompletionTokens);
  return sum / Math.max(1, tokens);
}

/** The loss and its coefficients (central differences) that iteration `k` of a run should hand the policy. */
function expected(run: Awaited<ReturnType<typeof runStep>>, k: number, o: LossOptions) {
  const lp = run.seen.forwards[k]!.logprobs;
  const old = run.seen.forwards[0]!.logprobs;
  const A = handAdvantages(run.fixture.rewards, o.groupSize, o.scaleRewards);
  const mask = run.fixture.truncated.map((t) => !(t && o.maskTruncatedCompletions));
  const ref = o.beta > 0 ? run.fixture.reference : lp;
  const h = 1e-5;
  const coefficients = lp.map((row, i) =>
    row.map((_, t) => {
      const at = (delta: number) => lp.map((r, j) => r.map((x, u) => (j === i && u === t ? x + delta : x)));
      return (trlLoss(at(h), old, ref, A, mask, o) - trlLoss(at(-h), old, ref, A, mask, o)) / (2 * h);
    }),
  );
  return { loss: trlLoss(lp, old, ref, A, mask, o), coefficients };
}

const maxDiff = (a: number[][], b: number[][]) =>
  Math.max(...a.flatMap((row, i) => row.map((x, t) => Math.abs(x - b[i]![t]!))));

/** Every iteration's coefficients match the computation with the run's options; with `defaults` they do not. */
function expectPassedThrough(run: Awaited<ReturnType<typeof runStep>>, defaults: Partial<LossOptions> | null) {
  run.seen.forwards.forEach((forward, k) => {
    expect(maxDiff(forward.coefficients, expected(run, k, run.config).coefficients)).toBeLessThan(1e-6);
  });
  const last = run.seen.forwards.length - 1;
  expect(run.metrics.loss).toBeCloseTo(expected(run, last, run.config).loss, 6);
  if (defaults !== null) {
    const withDefault = expected(run, last, { ...run.config, ...defaults });
    expect(maxDiff(run.seen.forwards[last]!.coefficients, withDefault.coefficients)).toBeGreaterThan(1e-4);
  }
}

// ─── one option at a time ─────────────────────────────────────────────────────────────────────────────

describe("grpoStep passes every GRPO option through to what the policy receives", () => {
  it.each([
    ["grpo" as const, { lossType: DEFAULT_GRPO_CONFIG.lossType }],
    ["dr_grpo" as const, { lossType: DEFAULT_GRPO_CONFIG.lossType }],
    ["bnpo" as const, null], // the same number as dapo here (docs/grpo.md): nothing to tell apart
  ])("lossType %s", async (lossType, defaults) => {
    expectPassedThrough(await runStep({ lossType }), defaults);
  });

  it("maxCompletionTokens: the sampler's token limit and dr_grpo's constant L", async () => {
    const run = await runStep({ lossType: "dr_grpo", maxCompletionTokens: 6 });
    expect(run.seen.sampler.map((c) => c.maxTokens)).toEqual([6, 6]);
    expectPassedThrough(run, { maxCompletionTokens: DEFAULT_GRPO_CONFIG.maxCompletionTokens });
  });

  it.each(["batch" as const, "none" as const])("scaleRewards %s", async (scaleRewards) => {
    expectPassedThrough(await runStep({ scaleRewards }), { scaleRewards: DEFAULT_GRPO_CONFIG.scaleRewards });
  });

  it("importanceSampling sequence (GSPO): one ratio per sequence once θ has moved", async () => {
    const run = await runStep({ importanceSampling: "sequence" });
    expectPassedThrough(run, { importanceSampling: DEFAULT_GRPO_CONFIG.importanceSampling });
  });

  it("epsilonLow", async () => {
    expectPassedThrough(await runStep({ epsilonLow: 0.05 }), { epsilonLow: DEFAULT_GRPO_CONFIG.epsilonLow });
  });

  it("epsilonHigh", async () => {
    expectPassedThrough(await runStep({ epsilonHigh: 0.05 }), { epsilonHigh: DEFAULT_GRPO_CONFIG.epsilonHigh });
  });

  it("beta 0.5: the KL term's weight; beta 0: no reference forward and no KL term", async () => {
    const run = await runStep({ beta: 0.5 });
    expect(run.seen.logprobs).toEqual([{ reference: true, temperature: 1 }]);
    expectPassedThrough(run, { beta: DEFAULT_GRPO_CONFIG.beta });
    const none = await runStep({ beta: 0 });
    expect(none.seen.logprobs).toEqual([]);
    expectPassedThrough(none, { beta: DEFAULT_GRPO_CONFIG.beta });
  });

  it("maskTruncatedCompletions false: the cut completions carry loss and count in N", async () => {
    const run = await runStep({ maskTruncatedCompletions: false });
    expect(run.seen.forwards[0]!.coefficients[1]!.some((c) => c !== 0)).toBe(true);
    expectPassedThrough(run, { maskTruncatedCompletions: true });
  });

  it("temperature 0.6: the sampler's temperatures, the reference and every training forward at T", async () => {
    const run = await runStep({ temperature: 0.6 });
    expect(run.seen.sampler.map((c) => c.temperatures)).toEqual([
      [0.6, 0.6, 0.6, 0.6],
      [0.6, 0.6, 0.6, 0.6],
    ]);
    expect(run.seen.logprobs).toEqual([{ reference: true, temperature: 0.6 }]);
    expect(run.seen.forwards.map((f) => f.temperature)).toEqual([0.6, 0.6]);
    // The first forward's log-probs are the policy's at T = 0.6: θ / 0.6 − logsumexp(θ / 0.6), by hand.
    const z = Math.log(THETA.reduce((a, t) => a + Math.exp(t / 0.6), 0));
    expect(run.seen.forwards[0]!.logprobs[0]![0]!).toBeCloseTo(THETA[1]! / 0.6 - z, 6);
    expectPassedThrough(run, null);
  });

  it("iterations (μ) 3: three forward + backward + AdamW rounds, π_old = the first forward", async () => {
    const run = await runStep({ iterations: 3 });
    expect(run.seen.forwards).toHaveLength(3);
    expect(run.seen.steps).toHaveLength(3);
    expect(run.seen.forwards[2]!.logprobs).not.toEqual(run.seen.forwards[0]!.logprobs);
    expectPassedThrough(run, null); // `expected` takes π_old from the first forward, for every iteration
  });

  it("groupSize 3 and promptsPerStep: G completions per prompt, advantages over groups of G", async () => {
    const run = await runStep({ groupSize: 3 });
    expect(run.seen.sampler.map((c) => c.n)).toEqual([3, 3]);
    expect(run.seen.forwards[0]!.coefficients).toHaveLength(6);
    expectPassedThrough(run, null);
  });

  it("seed 7 at step 2: the sampler's seeds are seed + step·100003 + k·G + i", async () => {
    const run = await runStep({ seed: 7 }, 2);
    expect(run.seen.sampler.map((c) => c.seeds)).toEqual([
      [200_013, 200_014, 200_015, 200_016],
      [200_017, 200_018, 200_019, 200_020],
    ]);
  });

  it("learningRate, maxGradNorm, weightDecay, beta1, beta2, adamEpsilon reach policy.step", async () => {
    const run = await runStep({
      learningRate: 0.25,
      maxGradNorm: 0.5,
      weightDecay: 0.01,
      beta1: 0.8,
      beta2: 0.99,
      adamEpsilon: 1e-6,
    });
    const options = { learningRate: 0.25, maxGradNorm: 0.5, weightDecay: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-6 };
    expect(run.seen.steps).toEqual([options, options]);
  });
});
