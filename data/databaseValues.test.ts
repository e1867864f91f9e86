import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { loadDataset } from "./loadDataset.js";
import { openDatabase } from "../sql/openDatabase.js";
import type { SqlExecutor } from "../sql/sqlExecutor.js";
import { augmentFromDatabase, databaseTextValues, sameColumnSubstitutes } from "./databaseValues.js";
import { augmentLiterals, copiedLiterals } from "./literalAugmentation.js";

const VALUES = new Map<string, string[]>([
  ["customers.country", ["Japan", "Spain", "Sweden"]],
  ["vendors.country", ["China", "Sweden"]],
  ["gl_accounts.name", ["Marketing", "Salaries", "Travel"]],
  ["vendors.category", ["Legal", "Marketing"]],
]);

describe("sameColumnSubstitutes", () => {
  const others = sameColumnSubstitutes(VALUES);
  test.each([
    ["Sweden", undefined, ["China", "Japan", "Spain"]],
    ["Sweden", "SELECT name FROM vendors WHERE country = 'Sweden'", ["China", "Japan", "Spain"]],
    ["Marketing", "SELECT 1 FROM gl_accounts a WHERE a.name = 'Marketing'", ["Salaries", "Travel"]],
    ["Marketing", "SELECT name FROM vendors WHERE category IN ('Legal', 'Marketing')", ["Legal"]],
    ["Marketing", "SELECT name FROM vendors WHERE category LIKE 'Marketing'", ["Legal"]],
    ["Marketing", "SELECT 'Marketing'", ["Legal", "Salaries", "Travel"]],
    ["Atlantis", "SELECT 1 WHERE x = 'Atlantis'", []],
  ])("%s in %s", (literal, sql, expected) => {
    expect(others(literal, sql)).toEqual(expected);
  });

  test("augmentLiterals prefers them over the pool, and falls back to the pool for unknown values", () => {
    const items = [
      { question: "vendors in Sweden", evidence: "", sql: "SELECT name FROM vendors WHERE country = 'Sweden'" },
      { question: "customers in Atlantis", evidence: "", sql: "SELECT name FROM customers WHERE country = 'Atlantis'" },
    ];
    const out = augmentLiterals(items, { copies: 20, seed: 3, pool: ["Zzz"], substitutes: others }).slice(2);
    const swapped = (sql: string) => /'([^']*)'/.exec(sql)![1]!;
    expect(new Set(out.filter((v) => v.sql.includes("vendors")).map((v) => swapped(v.sql)))).toEqual(
      new Set(["China", "Japan", "Spain"]),
    );
    expect(new Set(out.filter((v) => v.sql.includes("customers")).map((v) => swapped(v.sql)))).toEqual(
      new Set(["Zzz"]),
    );
  });
});

describe("on the demo database", () => {
  let db: SqlExecutor;
  beforeAll(async () => {
    db = await openDatabase("demo");
  }, 120_000);
  afterAll(async () => {
    await db?.close();
  });

  test("databaseTextValues reads the enumerable text columns and skips free text", async () => {
    const values = await databaseTextValues(db);
    expect(values.get("employees.status")).toEqual(["active", "on_leave", "terminated"]);
    expect(values.get("gl_accounts.account_type")).toEqual(["asset", "equity", "expense", "liability", "revenue"]);
    expect(values.get("customers.country")).toContain("Japan");
    const capped = await databaseTextValues(db, { maxDistinct: 10 });
    expect(capped.has("customers.name")).toBe(false);
    expect(capped.get("invoices.status")).toEqual(["draft", "overdue", "paid", "sent", "void"]);
  }, 60_000);

  test("augmentFromDatabase keeps only same-column variants whose gold SQL runs and returns rows", async () => {
    const train = (await loadDataset("train"))
      .filter((i) => /status = '/.test(i.sql) || /c\.name = '/.test(i.sql))
      .slice(0, 12);
    const result = await augmentFromDatabase(train, db, { copies: 2, seed: 5 });
    expect(result.generated).toBe(2 * train.filter((i) => copiedLiterals(i.question, i.sql).length > 0).length);
    expect(result.generated).toBeGreaterThan(10);
    expect(result.items.length + result.droppedEmpty + result.droppedFailed + result.droppedExcluded).toBe(
      result.generated,
    );
    expect(result.droppedExcluded).toBe(0);
    expect(result.items.length).toBeGreaterThan(0);
    const values = await databaseTextValues(db);
    const allValues = new Set([...values.values()].flat());
    for (const item of result.items) {
      expect(item.id).toMatch(/\.swap\d+$/);
      const res = await db.execute(item.sql);
      expect(res.rowCount).toBeGreaterThan(0);
      for (const [, literal] of item.sql.matchAll(/'([^']*)'/g))
        if (item.question.includes(literal!)) expect(allValues.has(literal!)).toBe(true);
    }
    const kept = await augmentFromDatabase(train, db, { copies: 2, seed: 5, keepEmpty: true });
    expect(kept.items.length).toBe(result.items.length + result.droppedEmpty);
    const [first, second] = result.items;
    const excluding = await augmentFromDatabase(train, db, {
      copies: 2,
      seed: 5,
      exclude: [
        { question: first!.question.toUpperCase(), sql: "SELECT 0" },
        { question: "-", sql: ` ${second!.sql} ` },
      ],
    });
    expect(excluding.droppedExcluded).toBeGreaterThanOrEqual(2);
    expect(excluding.items.map((i) => i.id)).not.toContain(first!.id);
    expect(excluding.items.map((i) => i.id)).not.toContain(second!.id);
  }, 120_000);
});
