// pipelineAccuracy (`gl-rl eval --pipeline`): questions through the full ask pipeline — vote and correction — with
// a scripted model (fakes allowed for the model only) on the real demo database.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { createScriptedTextGenerator } from "../models/scriptedTextGenerator.js";
import { openDatabase } from "../sql/openDatabase.js";
import type { SqlExecutor } from "../sql/sqlExecutor.js";
import { pipelineAccuracy } from "./pipelineAccuracy.js";

let db: SqlExecutor;
beforeAll(async () => {
  db = await openDatabase("demo");
}, 120_000);
afterAll(async () => {
  await db?.close();
});

describe("pipelineAccuracy", () => {
  test("a first answer that fails and its correction that is right counts; a wrong answer and no answer do not", async () => {
    const items = [
      { question: "Which projects are active?", sql: "SELECT name FROM projects WHERE status = 'active'" },
      { question: "How many customers are there?", sql: "SELECT count(*) FROM customers" },
      { question: "How many employees are there?", sql: "SELECT count(*) FROM employees" },
    ];
    const model = createScriptedTextGenerator((prompt) => {
      if (prompt.includes("Which projects are active?"))
        // Turn 1 names a column that does not exist; the correction prompt carries the error.
        return prompt.includes("The previous query failed.")
          ? "SELECT p.name FROM projects p WHERE p.status = 'active'"
          : "SELECT name FROM projects WHERE state = 'active'";
      if (prompt.includes("How many customers")) return "SELECT count(*) FROM projects"; // runs, wrong
      return "SELECT nothing FROM nowhere"; // never runs, not even after the correction
    });
    const progress: number[] = [];
    const report = await pipelineAccuracy({
      generator: model,
      items,
      executor: db,
      promptStyle: "tiny",
      candidates: 2,
      onProgress: (done) => progress.push(done),
    });
    expect(report).toEqual({
      pipeline_execution_accuracy: 1 / 3,
      pipeline_answered_rate: 2 / 3,
      pipeline_corrected_rate: 1 / 3,
      n: 3,
    });
    expect(progress).toEqual([1, 2, 3]);
    // The database is still open: the report closed only its own agent.
    expect((await db.execute("SELECT 1")).rows).toEqual([[1]]);
  }, 120_000);
});
