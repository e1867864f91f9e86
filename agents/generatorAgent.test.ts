import { describe, expect, test } from "@jest/globals";
import { ModelError, isModelError } from "../errors.js";
import type { Completion } from "../models/textGenerator.js";
import { createActorRuntime } from "../runtime/actorRuntime.js";
import { BoundedCache } from "../runtime/boundedCache.js";
import {
  FeedbackMemory,
  generateCandidates,
  normalizeSql,
  questionSimilarity,
  scoreCandidates,
  withVerdict,
  type GenerationRequest,
} from "./generatorAgent.js";
import { createScriptedTextGenerator } from "../models/scriptedTextGenerator.js";
import { taskCorrectionPrompt, taskPrompt } from "../task/text2sqlPrompt.js";
import { schemaFromDdl } from "../sql/schemaModel.js";

const question = { question: "How many projects are there?" };
const request: GenerationRequest = {
  prompt: taskPrompt("tiny", question),
  mode: "answer",
  schemaFingerprint: "fp",
  n: 4,
};

describe("generator agent", () => {
  test("N candidates on a temperature ladder, SQL extracted, agreement-based confidence", async () => {
    const fake = createScriptedTextGenerator((_p, i) => (i < 3 ? "SELECT count(*) FROM projects" : "hello there"));
    const rt = createActorRuntime();
    const candidates = await rt.call(generateCandidates, { request, generator: fake });
    expect(candidates).toHaveLength(4);
    expect(fake.calls[0]!.temperatures).toEqual([0.3, 0.5, 0.7, 0.9]);
    expect(fake.calls[0]!.prompt).toBe("How many projects are there?\nSQL:\n");
    expect(candidates.slice(0, 3).every((c) => c.sql === "SELECT count(*) FROM projects" && c.agreement === 0.75)).toBe(
      true,
    );
    expect(candidates[3]!.sql).toBeNull();
    expect(candidates[3]!.confidence).toBe(0);
    // ½·exp(−0.1) + ½·0.75
    expect(candidates[0]!.confidence).toBeCloseTo(0.5 * Math.exp(-0.1) + 0.375, 10);
    expect(withVerdict(candidates[0]!.confidence, false)).toBeCloseTo(candidates[0]!.confidence / 4, 10);
    await rt.dispose();
  });

  test("the generation cache answers a repeated request without the model", async () => {
    const fake = createScriptedTextGenerator(() => "SELECT 1");
    const rt = createActorRuntime();
    const cache = new BoundedCache<Promise<Completion[]>>();
    await rt.call(generateCandidates, { request, generator: fake, cache, adapter: "v1" });
    await rt.call(generateCandidates, {
      request: { ...request, prompt: taskPrompt("tiny", { question: "how many  projects are there?" }) },
      generator: fake,
      cache,
      adapter: "v1",
    });
    expect(fake.calls).toHaveLength(1); // case and spacing of the question do not matter
    await rt.call(generateCandidates, { request: { ...request, n: 2 }, generator: fake, cache, adapter: "v1" });
    expect(fake.calls).toHaveLength(2); // other params: a new generation
    await rt.call(generateCandidates, { request, generator: fake, cache, adapter: "v2" });
    expect(fake.calls).toHaveLength(3); // another adapter version: a new generation
    await rt.call(generateCandidates, {
      request: { ...request, schemaFingerprint: "fp2" },
      generator: fake,
      cache,
      adapter: "v2",
    });
    expect(fake.calls).toHaveLength(4); // another schema: a new generation
    await rt.dispose();
  });

  test("a correction prompt (the task's) sends the failed SQL and the error", async () => {
    const fake = createScriptedTextGenerator(() => "SELECT count(*) FROM projects");
    const rt = createActorRuntime();
    const out = await rt.call(generateCandidates, {
      request: {
        ...request,
        n: 1,
        mode: "correct",
        prompt: taskCorrectionPrompt("tiny", question, undefined, {
          failedSql: "SELECT count(*) FROM project",
          error: 'relation "project" does not exist',
          hint: "use projects",
        }),
      },
      generator: fake,
    });
    expect(out[0]!.sql).toBe("SELECT count(*) FROM projects");
    expect(fake.calls[0]!.prompt).toContain("Failed SQL:\nSELECT count(*) FROM project");
    expect(fake.calls[0]!.prompt).toContain('relation "project" does not exist');
    expect(fake.calls[0]!.prompt).toContain("Hint: use projects");
    await rt.dispose();
  });

  test("a model failure rejects the call with the model's error", async () => {
    const rt = createActorRuntime({ retries: 0 });
    const broken = createScriptedTextGenerator(() => {
      throw new ModelError("model.broken", "the context is gone");
    });
    const error = await rt.call(generateCandidates, { request, generator: broken }).catch((e: unknown) => e);
    expect(isModelError(error)).toBe(true);
    expect((error as Error).message).toBe("the context is gone");
    await rt.dispose();
  });

  test("feedback: similar corrections become few-shot examples; near-identical ones also a candidate", () => {
    const memory = new FeedbackMemory(2);
    memory.remember(
      "active projects with budget over 100000",
      "SELECT name FROM projects WHERE status = 'active' AND budget > 100000",
    );
    memory.remember("how many vendors", "SELECT count(*) FROM vendors");
    memory.remember("list all customers", "SELECT name FROM customers");
    expect(memory.size).toBe(2); // bounded: the oldest went
    memory.remember("how many vendors", "SELECT count(*) AS n FROM vendors");
    expect(memory.size).toBe(2);
    const similar = memory.similar("How many vendors?");
    expect(similar[0]).toEqual({
      question: "how many vendors",
      sql: "SELECT count(*) AS n FROM vendors",
      similarity: 1,
    });
    expect(memory.similar("revenue by quarter")).toEqual([]);

    const schema = schemaFromDdl("CREATE TABLE vendors (id int)");
    const linked = { tables: ["vendors"], columns: [], literals: [] };
    const chat = taskPrompt("schemaAware", question, { schema, linked, examples: similar });
    const user = "messages" in chat ? chat.messages[1]!.content : "";
    expect(user.indexOf("Examples:")).toBeGreaterThan(user.indexOf("CREATE TABLE vendors"));
    expect(user.indexOf("Examples:")).toBeLessThan(user.indexOf("Question: How many projects"));

    const scored = scoreCandidates([], [], similar);
    expect(scored).toHaveLength(1);
    expect(scored[0]!.source).toBe("feedback");
    expect(scored[0]!.sql).toBe("SELECT count(*) AS n FROM vendors");
  });

  test("a generation stopped before it settles (the ask's time ran out) is not left in the cache", async () => {
    let calls = 0;
    const hanging = createScriptedTextGenerator(() => {
      calls++;
      return calls === 1 ? new Promise<string>(() => undefined) : "SELECT 1";
    });
    const rt = createActorRuntime({ retries: 0 });
    const cache = new BoundedCache<Promise<Completion[]>>();
    const first = await rt
      .call(generateCandidates, { request, generator: hanging, cache }, { timeoutMs: 100 })
      .catch((e: unknown) => e);
    expect((first as Error).name).toBe("TimeoutError");
    expect(cache.size).toBe(0);
    const second = await rt.call(generateCandidates, { request, generator: hanging, cache }, { timeoutMs: 1000 });
    expect(second[0]!.sql).toBe("SELECT 1");
    await rt.dispose();
  });

  test("helpers", () => {
    expect(normalizeSql("SELECT  1\n FROM t ;")).toBe("select 1 from t");
    expect(questionSimilarity("a b c", "a b d")).toBeCloseTo(0.5, 10);
    expect(questionSimilarity("", "")).toBe(1);
  });
});
