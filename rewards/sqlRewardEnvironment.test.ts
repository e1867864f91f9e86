import { describe, expect, test } from "@jest/globals";
import { readFileSync } from "node:fs";
import { schemaFromDdl } from "../sql/schemaModel.js";
import { DEMO_SCHEMA_PATH } from "../sql/demoDatabase.js";
import { hasOuterOrderBy, validateCandidate } from "./sqlRewardEnvironment.js";

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

describe("hasOuterOrderBy", () => {
  test.each([
    ["SELECT name FROM projects ORDER BY budget DESC", true],
    ["SELECT name FROM projects", false],
    ["SELECT name FROM (SELECT name FROM projects ORDER BY name) s", false],
    ["WITH t AS (SELECT name FROM projects) SELECT name FROM t ORDER BY name", true],
  ])("%s → %s", (sql, ordered) => {
    expect(hasOuterOrderBy(sql)).toBe(ordered);
  });
});
