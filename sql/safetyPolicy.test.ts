import { describe, expect, it } from "@jest/globals";
import { checkSafety } from "./safetyPolicy.js";
import { hostileStatements } from "./hostileStatements.js";

describe("checkSafety", () => {
  it.each(hostileStatements.map((h) => [h.category, h.sql] as const))("refuses %s: %s", (_category, sql) => {
    const verdict = checkSafety(sql);
    expect(verdict.safe).toBe(false);
    expect(verdict.violations.length).toBeGreaterThan(0);
    for (const v of verdict.violations) expect(v.hint.length).toBeGreaterThan(0);
  });

  it.each([
    "SELECT a.name FROM accounts a WHERE a.name = 'x; DELETE FROM accounts' -- DROP TABLE accounts",
    "/* insert */ SELECT CASE WHEN 1 = 1 THEN 'a' ELSE 'b' END AS c",
    "WITH t AS (SELECT 1 AS x) SELECT x FROM t ORDER BY x LIMIT 5;",
    "(SELECT 1) UNION (SELECT 2)",
    "SELECT name FROM projects ORDER BY budget DESC OFFSET 2 ROWS FETCH FIRST 3 ROWS ONLY",
    "SELECT name FROM projects ORDER BY budget DESC FETCH NEXT 1 ROW ONLY",
    "SELECT substring('abc' FROM 1 FOR 2), \"update\" FROM accounts",
  ])("accepts read-only %s", (sql) => {
    expect(checkSafety(sql)).toEqual({ safe: true, violations: [] });
  });

  it("still refuses the cursor command FETCH", () => {
    expect(checkSafety("FETCH FORWARD 5 FROM c").safe).toBe(false);
    expect(checkSafety("SELECT 1; FETCH NEXT FROM c").safe).toBe(false);
  });

  it("names the rule that fired", () => {
    expect(checkSafety("SELECT 1; SELECT 2").violations.map((v) => v.code)).toContain("multi_statement");
    expect(checkSafety("SELECT pg_sleep(1)").violations.map((v) => v.code)).toContain("forbidden_function");
    expect(checkSafety("SELECT * FROM accounts FOR UPDATE").violations.map((v) => v.code)).toContain("locking_clause");
    expect(checkSafety("SELECT * FROM pg_catalog.pg_class").violations.map((v) => v.code)).toContain("catalog_access");
    expect(checkSafety("  ").violations.map((v) => v.code)).toEqual(["empty"]);
  });

  it("lets users allow a function and the catalog", () => {
    expect(checkSafety("SELECT version()", { allowFunctions: ["version"] }).safe).toBe(true);
    expect(checkSafety("SELECT relname FROM pg_class", { allowCatalog: true }).safe).toBe(true);
  });
});
