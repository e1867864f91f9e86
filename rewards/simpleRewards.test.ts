/** Table-driven tests of the rewards that read prepared samples (no database needed). */
import { describe, expect, it } from "@jest/globals";
import { DEMO_BUSINESS_RULES, defaultBusinessRules } from "../sql/businessRules.js";
import { createBusinessRuleReward } from "./businessRuleReward.js";

const demoRules = createBusinessRuleReward({ rules: defaultBusinessRules("demo") });
import { createExecutesButWrongReward } from "./executesButWrongReward.js";
import { executionMatchReward } from "./executionMatchReward.js";
import type { RewardFunction, RewardSample } from "./rewardSample.js";
import { resultOf, sample } from "./rewardTestSamples.js";
import { createSafetyPenalty } from "./safetyPenalty.js";
import { schemaLinkingReward } from "./schemaLinkingReward.js";
import { validityReward } from "./validityReward.js";
import { sqlValueLiterals, valueLinkingReward } from "./valueLinkingReward.js";

const ok = resultOf([[1]]);
const failed = { ok: false as const, kind: "error" as const, code: "error", error: "column x does not exist" };
const valid = { syntaxValid: true, schemaValid: true, refused: false, errors: [] };

const table: [string, RewardFunction, RewardSample, number | null][] = [
  ["match: matching", executionMatchReward, sample({ execution: ok, match: true }), 1],
  ["match: wrong result", executionMatchReward, sample({ execution: ok, match: false }), 0],
  ["match: no SQL", executionMatchReward, sample({ sql: null }), 0],
  ["match: no gold", executionMatchReward, sample({ goldSql: undefined, match: true }), null],
  [
    "match: a constant against a gold that reads tables (readsNoTable)",
    executionMatchReward,
    sample({ execution: ok, match: true, readsNoTable: true }),
    0,
  ],
  [
    "executes: a readsNoTable constant earns nothing (running `SELECT 72` is no progress)",
    createExecutesButWrongReward(),
    sample({ execution: ok, match: true, readsNoTable: true }),
    0,
  ],
  [
    "executes: an answer that ignores the data (test suite) earns nothing",
    createExecutesButWrongReward(),
    sample({ execution: ok, match: true, suiteMatch: false, ignoresData: true }),
    0,
  ],
  [
    "executes: right on the database, wrong on a variant: runs but wrong",
    createExecutesButWrongReward(),
    sample({ execution: ok, match: true, suiteMatch: false }),
    0.1,
  ],
  [
    "match: right on the database, wrong on a variant",
    executionMatchReward,
    sample({ execution: ok, match: true, suiteMatch: false }),
    0,
  ],
  [
    "match: an uninformative gold pays nothing",
    executionMatchReward,
    sample({ execution: ok, match: true, goldUninformative: true }),
    0,
  ],
  ["executes: runs but wrong", createExecutesButWrongReward(), sample({ execution: ok, match: false }), 0.1],
  ["executes: correct gets nothing here", createExecutesButWrongReward(), sample({ execution: ok, match: true }), 0],
  ["executes: failed", createExecutesButWrongReward({ credit: 0.3 }), sample({ execution: failed }), 0],
  [
    "executes: custom credit",
    createExecutesButWrongReward({ credit: 0.3 }),
    sample({ execution: ok, match: false }),
    0.3,
  ],
  [
    "schema: 2 of 3 items",
    schemaLinkingReward,
    sample({
      schemaItems: { tables: ["projects"], columns: ["projects.name"] },
      goldSchemaItems: { tables: ["PROJECTS"], columns: ["projects.name", "projects.budget"] },
    }),
    2 / 3,
  ],
  [
    "schema: disjoint",
    schemaLinkingReward,
    sample({
      schemaItems: { tables: ["invoices"], columns: [] },
      goldSchemaItems: { tables: ["projects"], columns: [] },
    }),
    0,
  ],
  [
    "schema: no SQL",
    schemaLinkingReward,
    sample({ sql: null, goldSchemaItems: { tables: ["projects"], columns: [] } }),
    0,
  ],
  ["schema: gold not analysed", schemaLinkingReward, sample({ schemaItems: { tables: ["x"], columns: [] } }), null],
  [
    "values: memorised value instead of the question's",
    valueLinkingReward,
    sample({
      sql: "SELECT name FROM gl_accounts WHERE account_type = 'liability'",
      goldSql: "SELECT name FROM gl_accounts WHERE account_type = 'equity'",
    }),
    0,
  ],
  [
    "values: right value, extra filter",
    valueLinkingReward,
    sample({
      sql: "SELECT name FROM gl_accounts WHERE account_type = 'equity' AND balance > 10",
      goldSql: "SELECT name FROM gl_accounts WHERE account_type = 'equity'",
    }),
    1 / 2,
  ],
  [
    "values: same values, other order and spelling",
    valueLinkingReward,
    sample({
      sql: "SELECT * FROM p WHERE budget > 100000.0 AND status = 'active'",
      goldSql: "SELECT * FROM p WHERE status = 'active' AND budget > 100000",
    }),
    1,
  ],
  [
    "values: case matters in a string",
    valueLinkingReward,
    sample({ sql: "SELECT * FROM c WHERE country = 'japan'", goldSql: "SELECT * FROM c WHERE country = 'Japan'" }),
    0,
  ],
  [
    "values: neither has one",
    valueLinkingReward,
    sample({ sql: "SELECT count(*) FROM t1", goldSql: "SELECT count(*) FROM t1" }),
    1,
  ],
  ["values: no SQL", valueLinkingReward, sample({ sql: null }), 0],
  ["values: no gold", valueLinkingReward, sample({ goldSql: undefined }), null],
  ["validity: valid", validityReward, sample({ validation: valid }), 1],
  ["validity: unknown column", validityReward, sample({ validation: { ...valid, schemaValid: false } }), 0.5],
  [
    "validity: syntax error",
    validityReward,
    sample({ validation: { ...valid, syntaxValid: false, schemaValid: false } }),
    0,
  ],
  ["validity: no SQL", validityReward, sample({ sql: null }), 0],
  [
    "safety: refused",
    createSafetyPenalty(),
    sample({ sql: "DELETE FROM invoices", validation: { ...valid, refused: true } }),
    -1,
  ],
  [
    "safety: refused at execution",
    createSafetyPenalty({ penalty: -2 }),
    sample({ execution: { ok: false, kind: "refused", code: "unsafe_write", error: "write" } }),
    -2,
  ],
  ["safety: fine", createSafetyPenalty(), sample({ validation: valid }), 0],
  [
    "rules: void excluded as gold does",
    demoRules,
    sample({
      sql: "SELECT sum(amount) FROM invoices WHERE status <> 'void'",
      goldSql: "SELECT sum(amount) FROM invoices WHERE status != 'void'",
    }),
    1,
  ],
  [
    "rules: void not excluded",
    demoRules,
    sample({
      sql: "SELECT sum(amount) FROM invoices",
      goldSql: "SELECT sum(amount) FROM invoices WHERE status != 'void'",
    }),
    0,
  ],
  ["rules: none applies", demoRules, sample({ goldSql: "SELECT name FROM projects" }), null],
  [
    "rules: opt-in — no rules given, nothing applies",
    createBusinessRuleReward(),
    sample({
      sql: "SELECT sum(amount) FROM invoices",
      goldSql: "SELECT sum(amount) FROM invoices WHERE status != 'void'",
    }),
    null,
  ],
  [
    "rules: one of two held",
    demoRules,
    sample({
      sql: "SELECT sum(debit) FROM journal_lines",
      goldSql: "SELECT sum(jl.debit) FROM journal_lines jl JOIN journal_entries e ON true WHERE e.source <> 'void'",
    }),
    0.5,
  ],
];

describe("rewards over prepared samples", () => {
  it.each(table)("%s", async (_name, reward, s, expected) => {
    const [value] = await reward([s]);
    if (expected === null) expect(value).toBeNull();
    else expect(value).toBeCloseTo(expected, 10);
  });

  it("value literals: strings unescaped, numbers outside strings and identifiers", () => {
    expect([
      ...sqlValueLiterals(
        "SELECT t1.col_2, 3 FROM t1 WHERE name = 'O''Brien' AND code = 'PRJ-1019' AND x > 2.50 AND y = $1 LIMIT 10",
      ),
    ]).toEqual(["s:O'Brien", "s:PRJ-1019", "n:3", "n:2.5", "n:10"]);
  });

  it("returns one value per sample, in order", async () => {
    const values = await executionMatchReward([
      sample({ match: true }),
      sample({ match: false }),
      sample({ goldSql: undefined }),
    ]);
    expect(values).toEqual([1, 0, null]);
  });
});

describe("defaultBusinessRules", () => {
  it("gives the demo database its GL rules and every other database none", () => {
    expect(defaultBusinessRules("demo")).toBe(DEMO_BUSINESS_RULES);
    expect(defaultBusinessRules(undefined)).toBe(DEMO_BUSINESS_RULES);
    expect(defaultBusinessRules("postgres://reader@localhost/erp")).toEqual([]);
    expect(defaultBusinessRules("pglite:./library-db")).toEqual([]);
  });
});
