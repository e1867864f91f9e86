/** Table-driven tests of the rewards that read prepared samples (no database needed). */
import { describe, expect, it } from "@jest/globals";
import { createBusinessRuleReward } from "./businessRuleReward.js";
import { createExecutesButWrongReward } from "./executesButWrongReward.js";
import { executionMatchReward } from "./executionMatchReward.js";
import type { RewardFunction, RewardSample } from "./rewardSample.js";
import { resultOf, sample } from "./rewardTestSamples.js";
import { createSafetyPenalty } from "./safetyPenalty.js";
import { schemaLinkingReward } from "./schemaLinkingReward.js";
import { validityReward } from "./validityReward.js";

const ok = resultOf([[1]]);
const failed = { ok: false as const, kind: "error" as const, error: "column x does not exist" };
const valid = { syntaxValid: true, schemaValid: true, refused: false, errors: [] };

const table: [string, RewardFunction, RewardSample, number | null][] = [
  ["match: matching", executionMatchReward, sample({ execution: ok, match: true }), 1],
  ["match: wrong result", executionMatchReward, sample({ execution: ok, match: false }), 0],
  ["match: no SQL", executionMatchReward, sample({ sql: null }), 0],
  ["match: no gold", executionMatchReward, sample({ goldSql: undefined, match: true }), null],
  ["executes: runs but wrong", createExecutesButWrongReward(), sample({ execution: ok, match: false }), 0.1],
  ["executes: correct gets nothing here", createExecutesButWrongReward(), sample({ execution: ok, match: true }), 0],
  ["executes: failed", createExecutesButWrongReward({ credit: 0.3 }), sample({ execution: failed }), 0],
  ["executes: custom credit", createExecutesButWrongReward({ credit: 0.3 }), sample({ execution: ok, match: false }), 0.3],
  ["schema: 2 of 3 items", schemaLinkingReward, sample({ schemaItems: { tables: ["projects"], columns: ["projects.name"] }, goldSchemaItems: { tables: ["PROJECTS"], columns: ["projects.name", "projects.budget"] } }), 2 / 3],
  ["schema: disjoint", schemaLinkingReward, sample({ schemaItems: { tables: ["invoices"], columns: [] }, goldSchemaItems: { tables: ["projects"], columns: [] } }), 0],
  ["schema: no SQL", schemaLinkingReward, sample({ sql: null, goldSchemaItems: { tables: ["projects"], columns: [] } }), 0],
  ["schema: gold not analysed", schemaLinkingReward, sample({ schemaItems: { tables: ["x"], columns: [] } }), null],
  ["validity: valid", validityReward, sample({ validation: valid }), 1],
  ["validity: unknown column", validityReward, sample({ validation: { ...valid, schemaValid: false } }), 0.5],
  ["validity: syntax error", validityReward, sample({ validation: { ...valid, syntaxValid: false, schemaValid: false } }), 0],
  ["validity: no SQL", validityReward, sample({ sql: null }), 0],
  ["safety: refused", createSafetyPenalty(), sample({ sql: "DELETE FROM invoices", validation: { ...valid, refused: true } }), -1],
  ["safety: refused at execution", createSafetyPenalty({ penalty: -2 }), sample({ execution: { ok: false, kind: "refused", error: "write" } }), -2],
  ["safety: fine", createSafetyPenalty(), sample({ validation: valid }), 0],
  ["rules: void excluded as gold does", createBusinessRuleReward(), sample({ sql: "SELECT sum(amount) FROM invoices WHERE status <> 'void'", goldSql: "SELECT sum(amount) FROM invoices WHERE status != 'void'" }), 1],
  ["rules: void not excluded", createBusinessRuleReward(), sample({ sql: "SELECT sum(amount) FROM invoices", goldSql: "SELECT sum(amount) FROM invoices WHERE status != 'void'" }), 0],
  ["rules: none applies", createBusinessRuleReward(), sample({ goldSql: "SELECT name FROM projects" }), null],
  ["rules: one of two held", createBusinessRuleReward(), sample({ sql: "SELECT sum(debit) FROM journal_lines", goldSql: "SELECT sum(jl.debit) FROM journal_lines jl JOIN journal_entries e ON true WHERE e.source <> 'void'" }), 0.5],
];

describe("rewards over prepared samples", () => {
  it.each(table)("%s", async (_name, reward, s, expected) => {
    const [value] = await reward([s]);
    if (expected === null) expect(value).toBeNull();
    else expect(value).toBeCloseTo(expected, 10);
  });

  it("returns one value per sample, in order", async () => {
    const values = await executionMatchReward([sample({ match: true }), sample({ match: false }), sample({ goldSql: undefined })]);
    expect(values).toEqual([1, 0, null]);
  });
});
