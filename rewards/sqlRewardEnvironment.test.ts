import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { readFileSync } from "node:fs";
import { schemaFromDdl } from "../sql/schemaModel.js";
import { DEMO_SCHEMA_PATH } from "../sql/demoDatabase.js";
import { openDatabase } from "../sql/openDatabase.js";
import type { SqlExecutor } from "../sql/sqlExecutor.js";
import { executionMatchReward } from "./executionMatchReward.js";
import { prepareRewardSamples } from "./prepareRewardSamples.js";
import { createSqlRewardEnvironment, validateCandidate } from "./sqlRewardEnvironment.js";

const schema = schemaFromDdl(readFileSync(DEMO_SCHEMA_PATH, "utf8"));

describe("validateCandidate (the reward pipeline's view of sql/validateSql)", () => {
  test.each([
    [
      "SELECT name, budget FROM projects WHERE status = 'active'",
      { syntaxValid: true, schemaValid: true, refused: false },
    ],
    [
      "SELECT p.name FROM projects p JOIN customers c ON c.customer_id = p.customer_id",
      { syntaxValid: true, schemaValid: true, refused: false },
    ],
    ["SELECT nme FROM projects", { syntaxValid: true, schemaValid: false, refused: false }],
    ["SELECT name FROM projectz", { syntaxValid: true, schemaValid: false, refused: false }],
    ["SELECT name FROM projects WHERE", { syntaxValid: false, schemaValid: false, refused: false }],
    ["SELEC name FROM projects", { syntaxValid: false, schemaValid: false, refused: true }], // default-deny: not a read
    ["DROP TABLE projects", { syntaxValid: true, schemaValid: true, refused: true }],
    ["SELECT 1; DELETE FROM projects", { refused: true }],
  ])("%s", async (sql, expected) => {
    const verdict = await validateCandidate(sql, schema);
    expect(verdict).toMatchObject(expected);
    expect(verdict.errors.length > 0).toBe(!(verdict.syntaxValid && verdict.schemaValid && !verdict.refused));
  });
});

describe("createSqlRewardEnvironment on the demo database (PGlite)", () => {
  let db: SqlExecutor;
  beforeAll(async () => {
    db = await openDatabase("demo");
  }, 60_000);
  afterAll(async () => {
    await db?.close();
  });

  test("results cut at the row cap are compared on complete data, not on their first rows", async () => {
    const executed: { sql: string; maxRows: number | undefined }[] = [];
    const env = await createSqlRewardEnvironment({
      description: "demo",
      execute: (sql, options) => {
        executed.push({ sql, maxRows: options?.maxRows });
        return db.execute(sql, options);
      },
    });
    // journal_lines has 5,440 rows: every result below is cut at the 1,000-row cap.
    const goldSql = "SELECT line_id FROM journal_lines ORDER BY line_id";
    const sameFirstRows =
      "SELECT CASE WHEN line_id <= 1000 THEN line_id ELSE 7 END FROM journal_lines ORDER BY line_id";
    const equal = "SELECT l.line_id FROM journal_lines l ORDER BY 1";
    const samples = await prepareRewardSamples(
      [sameFirstRows, equal, sameFirstRows].map((sql) => ({ question: "q", completion: sql, sql, goldSql })),
      env,
    );
    expect(samples[0]!.execution).toMatchObject({ ok: true, result: { rowCount: 1000, truncated: true } });
    expect(samples[0]!.goldExecution).toMatchObject({ ok: true, result: { rowCount: 1000, truncated: true } });
    expect(samples.map((s) => s.match)).toEqual([false, true, false]);
    expect(await executionMatchReward(samples)).toEqual([0, 1, 0]);
    // The gold ran once capped and once complete (cached), each candidate once complete.
    const complete = executed.filter((e) => e.maxRows !== undefined && e.maxRows > 1000);
    expect(complete.filter((e) => e.sql === goldSql)).toHaveLength(1);
    expect(complete.filter((e) => e.sql === sameFirstRows)).toHaveLength(2);
  }, 60_000);

  test("the count hack: `SELECT 72`-style constants score 0 against a gold that counts rows", async () => {
    const env = await createSqlRewardEnvironment(db);
    const goldSql = "SELECT count(*) FROM projects";
    const n = (await db.execute(goldSql)).rows[0]![0];
    const constant = `SELECT ${Number(n)}`;
    const samples = await prepareRewardSamples(
      [constant, "SELECT count(*) FROM projects p"].map((sql) => ({ question: "q", completion: sql, sql, goldSql })),
      env,
    );
    expect(samples.map((s) => s.match)).toEqual([true, true]);
    expect(await executionMatchReward(samples)).toEqual([0, 1]);
  }, 60_000);
});
