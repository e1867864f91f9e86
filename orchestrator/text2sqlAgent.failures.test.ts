/**
 * An ask always ends with an answer: a model that hangs, a database that hangs or fails, and the time budget
 * running out are answers with `error: { stage, code }` — never a rejected promise or a hang. The model is
 * scripted; the database is the real demo PGlite, wrapped where it must misbehave.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { DatabaseError } from "../errors.js";
import { createScriptedTextGenerator } from "../models/scriptedTextGenerator.js";
import type { CandidateOptions, Completion, GenerationParams, Prompt } from "../models/textGenerator.js";
import { openDatabase } from "../sql/openDatabase.js";
import type { ExecuteOptions, SqlExecutor } from "../sql/sqlExecutor.js";
import { createText2SqlAgent } from "./text2sqlAgent.js";

const GOOD = "SELECT name, budget FROM projects WHERE status = 'active' AND budget > 100000";
const QUESTION = "Show all active projects with budget over 100000";
let demo: SqlExecutor;

beforeAll(async () => {
  demo = await openDatabase("demo");
}, 120_000);
afterAll(async () => {
  await demo?.close();
});

/** The demo database, except that `misbehave(sql)` decides what happens to a statement first. */
function wrapped(misbehave: (sql: string) => Promise<never> | null): SqlExecutor {
  return {
    dialect: demo.dialect,
    description: "demo (wrapped)",
    execute: (sql: string, options?: ExecuteOptions) => misbehave(sql) ?? demo.execute(sql, options),
    close: async () => undefined,
  };
}

const forever = (): Promise<never> => new Promise<never>(() => undefined);

describe("an ask always ends", () => {
  test("a model that hangs: the answer says the budget ran out in generate, on time; the next ask works", async () => {
    let hang = true;
    const model = createScriptedTextGenerator(() => (hang ? forever() : GOOD));
    const agent = await createText2SqlAgent({ model, db: demo, candidates: 2, promptStyle: "tiny", timeoutMs: 1500 });
    const t0 = performance.now();
    const answer = await agent.ask(QUESTION);
    const ms = performance.now() - t0;
    expect(answer).toMatchObject({ sql: null, status: "unanswered", confidence: 0 });
    expect(answer.error).toEqual({
      stage: "generate",
      code: "timeout",
      message: "the ask's time budget ran out during generate",
    });
    expect(answer.explanation).toMatch(/time budget ran out during generate/);
    expect(ms).toBeGreaterThan(1400);
    expect(ms).toBeLessThan(4500); // once, not retried (the runtime's default: 120 s × 3 attempts)
    hang = false; // the hung generation was not cached: the same ask now reaches the model again
    expect((await agent.ask(QUESTION)).sql).toBe(GOOD);
    await agent.close();
  }, 30_000);

  test("a database that hangs on the query: the budget ran out in execute; one that fails: the answer says why", async () => {
    const model = createScriptedTextGenerator(() => GOOD);
    const hanging = await createText2SqlAgent({
      model,
      db: wrapped((sql) => (sql === GOOD ? forever() : null)), // EXPLAIN (validation) works, the query hangs
      candidates: 1,
      promptStyle: "tiny",
      timeoutMs: 2000,
    });
    const t0 = performance.now();
    const stuck = await hanging.ask(QUESTION);
    expect(stuck.error).toMatchObject({ stage: "execute", code: "timeout" });
    expect(stuck.sql).toBeNull();
    expect(performance.now() - t0).toBeLessThan(5000); // the 2 s budget, not the 5 s query limit × retries
    await hanging.close();

    const down = () => Promise.reject(new DatabaseError("connection_lost", "the server closed the connection"));
    const failing = await createText2SqlAgent({
      model,
      db: wrapped((sql) => (sql.startsWith("EXPLAIN") ? down() : null)),
      candidates: 1,
      promptStyle: "tiny",
      maxCorrections: 0,
      timeoutMs: 5000,
    });
    const refused = await failing.ask(QUESTION);
    expect(refused.sql).toBeNull();
    expect(refused.candidates[0]!.error).toMatch(/the server closed the connection/);
    await failing.close();
  }, 30_000);

  test("an unreachable database and a 1 ms budget are answers naming the stage", async () => {
    const model = createScriptedTextGenerator(() => GOOD);
    const gone = await createText2SqlAgent({ model, db: "postgres://nobody@127.0.0.1:1/none", candidates: 1 });
    const unreachable = await gone.ask(QUESTION);
    expect(unreachable.error).toMatchObject({ stage: "link", code: "db_unreachable" });
    await gone.close();
    const hurried = await createText2SqlAgent({ model, db: demo, candidates: 1, promptStyle: "tiny" });
    const late = await hurried.ask(QUESTION, { timeoutMs: 1 });
    expect(late.error).toMatchObject({ code: "timeout" });
    expect(["link", "generate"]).toContain(late.error!.stage);
    expect(model.calls).toHaveLength(0);
    await hurried.close();
  }, 30_000);

  test("a correction is sampled with the generation's adapter: a new adapter re-samples both", async () => {
    const scripted = createScriptedTextGenerator((prompt) =>
      prompt.includes("The previous query failed.") ? GOOD : "SELECT name FROM projects WHERE budgt > 100000",
    );
    const model = {
      adapter: "v1" as string | null,
      calls: scripted.calls,
      generate: scripted.generate,
      generateCandidates: (
        p: Prompt,
        n: number,
        params?: Partial<GenerationParams> & CandidateOptions,
        s?: AbortSignal,
      ) =>
        scripted
          .generateCandidates(p, n, params, s)
          .then((cs): Completion[] => cs.map((c) => ({ ...c, adapter: model.adapter }))),
    };
    const agent = await createText2SqlAgent({ model, db: demo, candidates: 1, promptStyle: "tiny" });
    expect((await agent.ask(QUESTION)).sql).toBe(GOOD);
    expect(model.calls).toHaveLength(2); // generate + correct
    await agent.ask(QUESTION);
    expect(model.calls).toHaveLength(2); // both cached under adapter v1
    model.adapter = "v2";
    expect((await agent.ask(QUESTION)).corrections).toBe(1);
    expect(model.calls).toHaveLength(4); // both sampled anew with v2 — the correction too
    await agent.close();
  }, 30_000);

  test("results in the (checkpointed) state are JSON-safe: bigint, timestamp", async () => {
    const sql = "SELECT 9007199254740993::int8 AS big, 7::int8 AS small, TIMESTAMP '2024-01-02 03:04:05' AS ts";
    const model = createScriptedTextGenerator(() => sql);
    const agent = await createText2SqlAgent({ model, db: demo, candidates: 1, promptStyle: "tiny" });
    const answer = await agent.ask("big numbers please", { threadId: "json-safe" });
    expect(answer.rows).toEqual([{ big: "9007199254740993", small: 7, ts: expect.stringMatching(/^2024-01-02T/) }]);
    expect(JSON.parse(JSON.stringify(answer))).toEqual(answer);
    const state = await agent.graph.getState({ configurable: { thread_id: "json-safe" } });
    expect(() => JSON.stringify(state.values)).not.toThrow();
    await agent.close();
  }, 30_000);

  test("business rules are opt-in: none on a database given as an executor, the GL rules on 'demo'", async () => {
    const sql = "SELECT sum(jl.debit) FROM journal_lines jl";
    const model = createScriptedTextGenerator(() => sql);
    const plain = await createText2SqlAgent({ model, db: demo, candidates: 1, promptStyle: "tiny" });
    expect((await plain.ask("total debits")).warnings.filter((w) => w.startsWith("rule_"))).toEqual([]);
    await plain.close();
    const gl = await createText2SqlAgent({ model, db: "demo", candidates: 1, promptStyle: "tiny" });
    expect((await gl.ask("total debits")).warnings.some((w) => w.startsWith("rule_posted_entries_only"))).toBe(true);
    await gl.close();
  }, 60_000);
});
