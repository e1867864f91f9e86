import { describe, expect, test } from "@jest/globals";
import type { RewardCandidate, RewardEnvironment } from "../../rewards/prepareRewardSamples.js";
import { createWeightedReward, DEFAULT_REWARD_COMPONENTS } from "../../rewards/weightedReward.js";
import type { QueryResult } from "../../sql/sqlExecutor.js";
import { buildGrpoPrompts, createGrpoSampler, evalMetricPrefix, GRPO_SAMPLING } from "./grpoRun.js";
import { grpoPolicyOptions, resolveGrpoRunConfig } from "./grpoRunConfig.js";
import { createRewardScorer } from "./grpoRewardScorer.js";

const result = (rows: unknown[][]): QueryResult => ({
  columns: [{ name: "n", type: "int4" }],
  rows,
  rowCount: rows.length,
  truncated: false,
  elapsedMs: 0,
});

/** A fake database: "SELECT 1" → [[1]], "SELECT 2" → [[2]]; counts executions. */
function fakeEnvironment(): RewardEnvironment & { executed: string[] } {
  const executed: string[] = [];
  return {
    executed,
    executor: {
      execute: async (sql) => {
        executed.push(sql);
        await new Promise((r) => setTimeout(r, 5));
        return result([[Number(sql.slice(-1))]]);
      },
    },
    validate: (sql) => ({
      syntaxValid: true,
      schemaValid: true,
      refused: false,
      errors: [],
      ...(sql.includes("x") ? { schemaValid: false } : {}),
    }),
    match: (gold, candidate) => JSON.stringify(gold.rows) === JSON.stringify(candidate.rows),
    analyze: () => ({ tables: [], columns: [] }),
  };
}

const candidates: RewardCandidate[] = [
  { question: "q", completion: "SELECT 1", sql: "SELECT 1", goldSql: "SELECT 1" },
  { question: "q", completion: "SELECT 2", sql: "SELECT 2", goldSql: "SELECT 1" },
  { question: "q", completion: "SELECT 1", sql: "SELECT 1", goldSql: "SELECT 1" }, // a duplicate completion
  { question: "q", completion: "nothing", sql: null, goldSql: "SELECT 1" },
];

describe("createRewardScorer", () => {
  test("prefetched candidates are executed once and score exactly as unprefetched ones", async () => {
    const reward = createWeightedReward({ components: DEFAULT_REWARD_COMPONENTS({ bareSql: true }) });
    const plainEnv = fakeEnvironment();
    const plain = await createRewardScorer(plainEnv, reward).scoreRewards(candidates);

    const env = fakeEnvironment();
    const scorer = createRewardScorer(env, reward);
    for (const c of candidates) scorer.prefetch(c);
    const prefetched = await scorer.scoreRewards(candidates);

    expect(prefetched).toEqual(plain);
    expect(prefetched.components.execution_match).toEqual([1, 0, 1, 0]);
    expect(env.executed.filter((s) => s === "SELECT 2")).toHaveLength(1); // not run again by scoreRewards
    expect(env.executed).toHaveLength(plainEnv.executed.length); // gold once (cached) + 3 candidates
    expect(scorer.lastSamples.map((s) => s.match)).toEqual([true, false, true, undefined]);
  });
});

describe("createGrpoSampler", () => {
  test("merges its fixed params under the step's and reports each finished group", async () => {
    const seen: unknown[] = [];
    const groups: string[][] = [];
    const model = {
      generateCandidates: async (_p: unknown, n: number, params: unknown) => {
        seen.push(params);
        return Array.from({ length: n }, (_, i) => ({
          text: `t${i}`,
          tokens: [i],
          logprobs: [0],
          finishReason: "eos" as const,
          timings: { promptMs: 0, generateMs: 0, tokensPerSecond: 0 },
          adapter: null,
        }));
      },
      setAdapter: async (path: string | null) => path,
    };
    const sampler = createGrpoSampler(model as never, GRPO_SAMPLING, (_p, completions) =>
      groups.push(completions.map((c) => c.text)),
    );
    await sampler.generateCandidates({ text: "q\nSQL:\n" }, 2, { temperatures: [1, 1], maxTokens: 9 });
    // Exactly softmax(logits / T), no re-scoring: what the trainer scores is what was sampled.
    expect(seen[0]).toEqual({
      fullDistribution: true,
      scoreLogprobs: false,
      minP: 0,
      repeatPenalty: 1,
      temperatures: [1, 1],
      maxTokens: 9,
    });
    expect(groups).toEqual([["t0", "t1"]]);
  });
});

describe("buildGrpoPrompts", () => {
  test("prompt tokens are the tokenizer's rendering of the tiny prompt, with special tokens", () => {
    const calls: [string, boolean | undefined][] = [];
    const tokenizer = {
      tokenize: (text: string, special?: boolean) => {
        calls.push([text, special]);
        return [...text].map((ch) => ch.charCodeAt(0));
      },
      eosToken: 0,
    };
    const [p] = buildGrpoPrompts(
      tokenizer,
      [{ id: "a", question: "How many?", evidence: "", sql: "SELECT 1", db: "demo" }],
      "tiny",
    );
    expect(p!.prompt).toEqual({ text: "How many?\nSQL:\n" });
    expect(p!.promptTokens).toEqual([..."How many?\nSQL:\n"].map((ch) => ch.charCodeAt(0)));
    expect(calls[0]).toEqual(["How many?\nSQL:\n", true]);
    expect(p!.goldSql).toBe("SELECT 1");
    expect(p!.id).toBe("a");
  });
});

describe("evalMetricPrefix", () => {
  test.each([
    ["dev", "dev"],
    ["/data/my questions.jsonl", "my_questions"],
    ["runs/held-out.v2.json", "held_out_v2"],
  ])("%s → %s", (split, prefix) => {
    expect(evalMetricPrefix(split)).toBe(prefix);
  });
});

describe("grpoPolicyOptions", () => {
  const base = { loraRank: 0, loraAlpha: 0, seed: 3, threads: 1 };
  test("a fresh adapter: loraRank/loraAlpha when set, dropout 0", () => {
    expect(grpoPolicyOptions({ ...base, loraRank: 16, loraAlpha: 32 }, "m.gguf")).toEqual({
      modelPath: "m.gguf",
      trainable: "lora",
      lora: { rank: 16, alpha: 32, dropout: 0, seed: 45 },
      threads: 1,
    });
    expect(grpoPolicyOptions(base, "m.gguf").lora).toEqual({ dropout: 0, seed: 45 }); // rank/alpha by model size
  });

  test("a starting adapter: no rank/alpha (they come from its file), dropout 0", () => {
    expect(grpoPolicyOptions({ ...base, adapter: "sft.gguf" }, "m.gguf").lora).toEqual({
      initPath: "sft.gguf",
      dropout: 0,
      seed: 45,
    });
  });

  test("recompute reaches the policy only when asked for; a non-boolean is refused", () => {
    expect(grpoPolicyOptions({ ...base, recompute: true }, "m.gguf").recompute).toBe(true);
    expect("recompute" in grpoPolicyOptions(base, "m.gguf")).toBe(false);
    expect(resolveGrpoRunConfig({ model: "m.gguf" }).recompute).toBe(false);
    expect(() => resolveGrpoRunConfig({ model: "m.gguf", recompute: "yes" } as never)).toThrow(/recompute/);
  });

  test("resolveGrpoRunConfig refuses loraRank/loraAlpha beside an adapter, and the removed topK/topP", () => {
    expect(() => resolveGrpoRunConfig({ model: "m.gguf", adapter: "sft.gguf", loraRank: 8 })).toThrow(
      /apply only to a fresh adapter/,
    );
    expect(() => resolveGrpoRunConfig({ model: "m.gguf", topK: 40 } as never)).toThrow(/'topK' no longer exists/);
    expect(() => resolveGrpoRunConfig({ model: "m.gguf", topP: 0.9 } as never)).toThrow(/'topP' no longer exists/);
  });
});
