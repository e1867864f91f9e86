import { describe, expect, it } from "@jest/globals";
import type { Completion, Prompt } from "../../models/textGenerator.js";
import { executionMatchReward } from "../../rewards/executionMatchReward.js";
import { createWeightedReward } from "../../rewards/weightedReward.js";
import { evaluate, type EvaluationExample } from "./evaluate.js";

/** A generator that answers from a table and records its temperature. */
function fakeGenerator(answers: Record<string, string>) {
  const temperatures: number[] = [];
  return {
    temperatures,
    async generate(prompt: Prompt, params: { temperature?: number } = {}): Promise<Completion> {
      temperatures.push(params.temperature ?? Number.NaN);
      const text = answers["text" in prompt ? prompt.text : ""] ?? "";
      return {
        text,
        tokens: [],
        logprobs: [],
        finishReason: "eos",
        timings: { promptMs: 0, generateMs: 0, tokensPerSecond: 0 },
        adapter: null,
      };
    },
  };
}

const examples: EvaluationExample[] = [
  { question: "a", sql: "SELECT 1", difficulty: "easy" },
  { question: "b", sql: "SELECT 2", difficulty: "easy" },
  { question: "c", sql: "SELECT 3", difficulty: "hard" },
  { question: "d", sql: "SELECT 4", difficulty: "hard" },
  { question: "e", sql: "SELECT 5", difficulty: "hard" },
];

describe("evaluate", () => {
  it("reports execution accuracy overall and by difficulty, validity, latency and reward", async () => {
    const generator = fakeGenerator({ a: "SELECT 1", b: "SELECT 9", c: "SELECT 3", d: "nonsense", e: "SELECT 5" });
    const report = await evaluate({
      generator,
      examples,
      buildPrompt: (ex) => ({ text: ex.question }),
      extractSql: (t) => (t.startsWith("SELECT") ? t : null),
      prepare: async (cands) =>
        cands.map((c) => ({
          ...c,
          validation: { syntaxValid: c.sql !== null, schemaValid: c.sql !== null, refused: false, errors: [] },
          match: c.sql === c.goldSql,
        })),
      reward: createWeightedReward({ components: { m: { fn: executionMatchReward, weight: 2 } } }),
      concurrency: 2,
    });
    expect(report.n).toBe(5);
    expect(report.execution_accuracy).toBeCloseTo(3 / 5, 12);
    expect(report.by_difficulty).toEqual({
      easy: { n: 2, execution_accuracy: 0.5 },
      hard: { n: 3, execution_accuracy: 2 / 3 },
    });
    expect(report.validity_rate).toBeCloseTo(4 / 5, 12);
    expect(report.mean_reward).toBeCloseTo(6 / 5, 12);
    expect(report.results.map((r) => r.question)).toEqual(["a", "b", "c", "d", "e"]);
    expect(report.results.map((r) => r.prompt)).toEqual(["a", "b", "c", "d", "e"]); // the prompt as the model saw it
    expect(report.mean_latency_ms).toBeGreaterThanOrEqual(0);
    expect(generator.temperatures).toEqual([0, 0, 0, 0, 0]);
  });
});
