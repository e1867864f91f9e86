// evaluateModel on the demo database (PGlite) with a scripted generator: execution accuracy on the database and
// test-suite execution accuracy (docs/execution-match.md "Test suite") side by side.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Completion, Prompt } from "../../models/textGenerator.js";
import { openDatabase } from "../../sql/openDatabase.js";
import type { SqlExecutor } from "../../sql/sqlExecutor.js";
import { evaluateModel } from "./evaluateModel.js";

/** Answers by question (the "tiny" prompt holds the question's text). */
function scripted(answers: Record<string, string>) {
  return {
    async generate(prompt: Prompt): Promise<Completion> {
      const text = "text" in prompt ? prompt.text : JSON.stringify(prompt);
      const answer = Object.entries(answers).find(([q]) => text.includes(q))?.[1] ?? "";
      return {
        text: answer,
        tokens: [],
        logprobs: [],
        finishReason: "eos",
        timings: { promptMs: 0, generateMs: 0, tokensPerSecond: 0 },
        adapter: null,
      };
    },
  };
}

describe("evaluateModel: EX and test-suite EX", () => {
  let db: SqlExecutor;
  beforeAll(async () => {
    db = await openDatabase("demo");
  }, 60_000);
  afterAll(async () => {
    await db?.close();
  });

  it("a constant copied from the data counts for EX and not for test-suite EX; --suite 0 gives null", async () => {
    const count = "SELECT count(*) FROM projects WHERE status = 'active'";
    const n = Number((await db.execute(count)).rows[0]![0]);
    const items = [
      { question: "How many active projects are there?", sql: count, evidence: "", difficulty: "simple" as const },
      {
        question: "List the names of all customers.",
        sql: "SELECT name FROM customers",
        evidence: "",
        difficulty: "simple" as const,
      },
      {
        question: "How many employees are there?",
        sql: "SELECT count(*) FROM employees",
        evidence: "",
        difficulty: "simple" as const,
      },
    ];
    const employees = Number((await db.execute("SELECT count(*) FROM employees")).rows[0]![0]);
    const generator = scripted({
      "active projects": `SELECT ${n} FROM projects LIMIT 1`,
      "names of all customers": "SELECT c.name FROM customers c ORDER BY 1",
      "How many employees": `SELECT max(${employees}) FROM employees`,
    });
    const report = await evaluateModel({ generator, items, executor: db, concurrency: 2 });
    expect(report.results.map((r) => [r.match, r.suiteMatch])).toEqual([
      [true, false],
      [true, true],
      [true, false],
    ]);
    expect(report.execution_accuracy).toBe(1);
    expect(report.test_suite_execution_accuracy).toBeCloseTo(1 / 3, 12);
    const plain = await evaluateModel({ generator, items, executor: db, suite: 0 });
    expect(plain.execution_accuracy).toBe(1);
    expect(plain.test_suite_execution_accuracy).toBeNull();
  }, 120_000);
});
