/**
 * Multi-turn GRPO (docs/grpo.md "Multi-turn episodes") through grpoStep with the fake policy: a 2-turn episode's
 * batch, masks, reward, advantages and coefficients against a hand computation; turns = 1 is the single-shot step.
 */
import { describe, expect, it } from "@jest/globals";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Completion, Prompt } from "../../models/textGenerator.js";
import type { ExecutionOutcome } from "../../sql/sqlExecutor.js";
import { FakePolicy } from "../fakePolicy.js";
import { resolveGrpoConfig, type GrpoConfig } from "./grpoConfig.js";
import { grpoStep, type GrpoCompletionRecord, type GrpoPrompt, type GrpoSampler } from "./grpoStep.js";
import type { PolicyBackend, TokenSequence } from "../policyBackend.js";

const dir = mkdtempSync(join(tmpdir(), "grpo-episodes-"));
// Token ids: 0 <p>, 1 fix (the correction prompt's extra token), 2 GOOD, 3 BAD, 4 LONG.
const TEXT: Record<number, string> = { 2: "GOOD", 3: "BAD", 4: "LONG" };
const completion = (tokens: number[], cut = false): Completion => ({
  text: tokens.map((t) => TEXT[t]).join(" "),
  tokens,
  logprobs: [],
  finishReason: cut ? "maxTokens" : "eos",
  timings: { promptMs: 0, generateMs: 0, tokensPerSecond: 0 },
  adapter: null,
});
/** Turn 1 answers of the three episodes; turn 2 (the correction prompt) answers by seed order. */
const FIRST = [completion([2]), completion([3, 3]), completion([3])];
const SECOND = [completion([2, 2]), completion([4, 4, 4], true)];

function setup(overrides: Partial<GrpoConfig>) {
  const calls: { prompt: Prompt; n: number }[] = [];
  let corrections = 0;
  const sampler: GrpoSampler = {
    async generateCandidates(prompt, n) {
      calls.push({ prompt, n });
      return "text" in prompt && prompt.text.startsWith("fix") ? [SECOND[corrections++]!] : FIRST.slice(0, n);
    },
    async setAdapter() {},
  };
  const validated: string[] = [];
  const prompt: GrpoPrompt = {
    id: "p",
    question: "q",
    goldSql: "GOOD",
    prompt: { text: "q" },
    promptTokens: [0],
    correct: (failure) => ({ prompt: { text: `fix ${failure.failedSql}: ${failure.error}` }, promptTokens: [0, 1] }),
  };
  const inner = new FakePolicy(5);
  const seen: { batch: TokenSequence[]; coefficients: Float32Array[] }[] = [];
  const policy: PolicyBackend = {
    trainable: "all",
    logprobs: (b, o) => inner.logprobs(b, o),
    accumulateGradients: (b, c, o) =>
      inner.accumulateGradients(
        b,
        (lp) => {
          const coefficients = (c as (x: Float32Array[]) => Float32Array[])(lp);
          seen.push({ batch: b, coefficients });
          return coefficients;
        },
        o,
      ),
    step: (o) => inner.step(o),
    saveWeights: (p) => inner.saveWeights(p),
    saveCheckpoint: (p) => inner.saveCheckpoint(p),
    loadCheckpoint: (p) => inner.loadCheckpoint(p),
    dispose: () => inner.dispose(),
  };
  const records: GrpoCompletionRecord[] = [];
  const config = resolveGrpoConfig({ groupSize: 3, promptsPerStep: 1, beta: 0, maxGradNorm: 0, ...overrides });
  const step = () =>
    grpoStep(
      0,
      [prompt],
      {
        policy,
        sampler,
        extractSql: (text) => text,
        // The reward: 1 for the right answer, else 0 (the final answer's; the step subtracts the turn cost).
        scoreRewards: async (candidates) => ({
          totals: candidates.map((c) => (c.sql === "GOOD" || c.sql === "GOOD GOOD" ? 1 : 0)),
          components: { m: candidates.map((c) => (c.sql === "GOOD" || c.sql === "GOOD GOOD" ? 1 : 0)) },
        }),
        adapterPath: (s) => join(dir, `${Object.values(overrides).join("-")}-${s}.json`),
        recordCompletions: (r) => records.push(...r),
        turnTools: {
          validate: async (sql) => {
            validated.push(sql);
            return sql.startsWith("BAD")
              ? { valid: false, errors: [{ code: "c", message: `no column ${sql}`, hint: "h" }], warnings: [] }
              : { valid: true, errors: [], warnings: [] };
          },
          execute: async (): Promise<ExecutionOutcome> => ({
            ok: true,
            result: { columns: [], rows: [], rowCount: 0, truncated: false } as never,
          }),
        },
      },
      config,
    );
  return { step, calls, seen, records, validated };
}

/** The hand computation: rewards, group advantages (unbiased std + 1e-4). */
function handAdvantages(r: number[]): number[] {
  const mean = r.reduce((a, b) => a + b, 0) / r.length;
  const std = Math.sqrt(r.reduce((a, x) => a + (x - mean) ** 2, 0) / (r.length - 1));
  return r.map((x) => (x - mean) / (std + 1e-4));
}

describe("multi-turn GRPO episodes", () => {
  it("a 2-turn episode: one sequence per turn, feedback in the prompt only, the cut turn masked, one advantage per episode", async () => {
    const { step, calls, seen, records } = await setup({ turns: 2 });
    const metrics = await step();
    // Episode 0 answers at turn 1; episodes 1 and 2 fail validation and get the correction prompt.
    expect(calls.map((c) => c.n)).toEqual([3, 1, 1]);
    expect(calls[1]!.prompt).toEqual({ text: "fix BAD BAD: no column BAD BAD" });
    const { batch, coefficients } = seen[0]!;
    expect(batch).toEqual([
      { tokens: [0, 2], completionStart: 1 }, // episode 0, turn 1
      { tokens: [0, 3, 3], completionStart: 1 }, // episode 1, turn 1
      { tokens: [0, 1, 2, 2], completionStart: 2 }, // episode 1, turn 2: feedback (token 1) is prompt, no loss
      { tokens: [0, 3], completionStart: 1 }, // episode 2, turn 1
      { tokens: [0, 1, 4, 4, 4], completionStart: 2 }, // episode 2, turn 2: cut at the token limit
    ]);
    // Rewards: the final answer's, minus 0.05 per extra turn: [1, 1 − 0.05, 0 − 0.05].
    const A = handAdvantages([1, 0.95, -0.05]);
    expect(records.map((r) => r.reward)).toEqual([1, 0.95, -0.05]);
    expect(records.map((r) => r.advantage)).toEqual(A.map((a) => expect.closeTo(a, 12)));
    // dapo at μ = 1 (ρ = 1, β = 0): c = −A_e / N per token, N = the unmasked turns' tokens = 1 + 2 + 2 + 1 = 6.
    const expected = [[-A[0]! / 6], [-A[1]! / 6, -A[1]! / 6], [-A[1]! / 6, -A[1]! / 6], [-A[2]! / 6], [0, 0, 0]];
    coefficients.forEach((row, j) => {
      expect(Array.from(row).map((x) => Math.fround(x))).toEqual(expected[j]!.map((x) => Math.fround(x)));
    });
    expect(metrics.truncatedFraction).toBe(1 / 5);
    expect(metrics.turnsMean).toBeCloseTo(5 / 3, 12);
    // completions.jsonl shows whole episodes: every turn, its feedback, its mask.
    expect(records[2]).toMatchObject({
      completion: "LONG LONG LONG",
      masked: true,
      turns: [
        { completion: "BAD", feedback: { failedSql: "BAD", error: "no column BAD", hint: "h" }, masked: false },
        { completion: "LONG LONG LONG", finishReason: "maxTokens", feedback: null, masked: true },
      ],
    });
  });

  it("lossType grpo: per-episode token mean over all its turns, then the mean over episodes", async () => {
    const { step, seen } = await setup({ turns: 2, lossType: "grpo" });
    await step();
    const A = handAdvantages([1, 0.95, -0.05]);
    // n_e: episode 0 → 1 token, episode 1 → 2 + 2, episode 2 → 1 (its cut turn leaves the loss); E = 3.
    const expected = [[-A[0]! / 3], [-A[1]! / 12, -A[1]! / 12], [-A[1]! / 12, -A[1]! / 12], [-A[2]! / 3], [0, 0, 0]];
    seen[0]!.coefficients.forEach((row, j) => {
      Array.from(row).forEach((x, t) => {
        expect(x).toBeCloseTo(expected[j]![t]!, 6);
      });
    });
  });

  it("turns = 1 is single-shot: no validation, one sequence per completion, no turn cost, no turns in the records", async () => {
    const { step, calls, seen, records, validated } = await setup({});
    await step();
    expect(validated).toEqual([]);
    expect(calls.map((c) => c.n)).toEqual([3]);
    expect(seen[0]!.batch).toEqual([
      { tokens: [0, 2], completionStart: 1 },
      { tokens: [0, 3, 3], completionStart: 1 },
      { tokens: [0, 3], completionStart: 1 },
    ]);
    expect(records.map((r) => r.reward)).toEqual([1, 0, 0]);
    expect(records.every((r) => r.turns === undefined)).toBe(true);
  });
});
