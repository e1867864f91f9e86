import { describe, expect, it } from "@jest/globals";
import { renderPrompt } from "../models/promptTemplates.js";
import type { ExecutionOutcome } from "../sql/sqlExecutor.js";
import type { ValidationResult } from "../sql/validateSql.js";
import { candidateFailure, executesAfter, nextTurn, turnFeedback, turnPrompt } from "./correctionLoop.js";

const valid: ValidationResult = { valid: true, errors: [], warnings: [] };
const invalid: ValidationResult = {
  valid: false,
  errors: [
    { code: "unknown_column", message: 'column "budgt" does not exist', hint: "did you mean budget?" },
    { code: "x", message: "second problem" },
  ],
  warnings: [],
};
const ran: ExecutionOutcome = {
  ok: true,
  result: { columns: [], rows: [], rowCount: 0, truncated: false } as never,
};
const failed: ExecutionOutcome = {
  ok: false,
  kind: "error",
  code: "22012",
  error: "division by zero",
  hint: "guard the divisor",
};

describe("the correction loop's rules", () => {
  it.each([
    ["no SQL", null, null, null, null],
    ["a query that ran", "SELECT 1", valid, ran, null],
    ["valid, not executed yet", "SELECT 1", valid, null, null],
    [
      "the execution's error and hint first",
      "SELECT 1/0",
      valid,
      failed,
      { failedSql: "SELECT 1/0", error: "division by zero", hint: "guard the divisor" },
    ],
    [
      "the validator's errors joined, the first one's hint",
      "SELECT budgt FROM projects",
      invalid,
      null,
      {
        failedSql: "SELECT budgt FROM projects",
        error: 'column "budgt" does not exist; second problem',
        hint: "did you mean budget?",
      },
    ],
  ] as const)("candidateFailure: %s", (_, sql, verdict, execution, expected) => {
    expect(candidateFailure(sql, verdict, execution)).toEqual(expected);
  });

  it("executes a candidate only with SQL and a passing verdict", () => {
    expect(executesAfter("SELECT 1", valid)).toBe(true);
    expect(executesAfter("SELECT 1", invalid)).toBe(false);
    expect(executesAfter("SELECT 1", null)).toBe(false);
    expect(executesAfter(null, valid)).toBe(false);
  });

  it.each([
    [{ answered: true, failure: null, turn: 1, maxTurns: 3 }, "stop"],
    [{ answered: false, failure: null, turn: 1, maxTurns: 3 }, "stop"],
    [{ answered: false, failure: { failedSql: "x", error: "e" }, turn: 1, maxTurns: 3 }, "correct"],
    [{ answered: false, failure: { failedSql: "x", error: "e" }, turn: 3, maxTurns: 3 }, "stop"],
    [{ answered: true, failure: { failedSql: "x", error: "e" }, turn: 1, maxTurns: 3 }, "stop"],
  ] as const)("nextTurn(%j) = %s", (state, expected) => {
    expect(nextTurn(state)).toBe(expected);
  });

  it("turn 1 is the task prompt, a later turn the correction prompt with the failed SQL, error and hint", () => {
    const q = { question: "How many projects are there?" };
    expect(renderPrompt(turnPrompt("tiny", q, undefined, null))).not.toContain("The previous query failed.");
    const text = renderPrompt(
      turnPrompt("tiny", q, undefined, { failedSql: "SELECT 1/0", error: "division by zero", hint: "guard it" }),
    );
    expect(text).toContain("How many projects are there?");
    expect(text).toContain("Failed SQL:\nSELECT 1/0\nError: division by zero\nHint: guard it");
  });

  it("turnFeedback validates, executes only what is valid, and names the failure", async () => {
    const executed: string[] = [];
    const tools = {
      validate: async (sql: string) => (sql.includes("budgt") ? invalid : valid),
      execute: async (sql: string) => {
        executed.push(sql);
        return sql.includes("/0") ? failed : ran;
      },
    };
    expect(await turnFeedback("SELECT budgt FROM projects", tools)).toMatchObject({
      verdict: invalid,
      execution: null,
      failure: { error: 'column "budgt" does not exist; second problem' },
    });
    expect(await turnFeedback("SELECT 1/0", tools)).toMatchObject({
      execution: failed,
      failure: { hint: "guard the divisor" },
    });
    expect(await turnFeedback("SELECT 1", tools)).toEqual({ verdict: valid, execution: ran, failure: null });
    expect(await turnFeedback(null, tools)).toEqual({ verdict: null, execution: null, failure: null });
    expect(executed).toEqual(["SELECT 1/0", "SELECT 1"]);
  });
});
