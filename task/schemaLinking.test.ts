import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { readFileSync } from "node:fs";
import { DEMO_SCHEMA_PATH } from "../sql/demoDatabase.js";
import { openDatabase } from "../sql/openDatabase.js";
import { schemaFromDdl } from "../sql/schemaModel.js";
import type { SqlExecutor } from "../sql/sqlExecutor.js";
import {
  linkLiterals,
  linkSchema,
  lookupLiterals,
  questionLiterals,
  questionWords,
  singular,
  type LinkedSchema,
} from "./schemaLinking.js";

const schema = schemaFromDdl(readFileSync(DEMO_SCHEMA_PATH, "utf8"));
let db: SqlExecutor;
beforeAll(async () => {
  db = await openDatabase("demo");
}, 120_000);
afterAll(async () => {
  await db?.close();
});

describe("schema linking", () => {
  test.each([
    ["projects", "project"],
    ["companies", "company"],
    ["addresses", "address"],
    ["status", "statu"],
    ["class", "class"],
    ["id", "id"],
  ])("singular(%s) = %s", (word, expected) => expect(singular(word)).toBe(expected));

  test("links tables by name and columns by overlap, best first, bounded", () => {
    expect([...questionWords("Show all the active Projects")]).toEqual(["active", "project"]);
    const linked = linkSchema("Show all active projects with budget over 100000", schema);
    expect(linked.tables[0]).toBe("projects");
    expect(linked.tables).toContain("budgets");
    expect(linked.columns).toContain("projects.budget");
    expect(linked.tables.length).toBeLessThanOrEqual(4);
    expect(linkSchema("How many vendors are there?", schema).tables).toEqual(["vendors", "vendor_bills"]);
    expect(linkSchema("asdf qwerty zxcv", schema)).toEqual({ tables: [], columns: [], literals: [] });
    expect(linkSchema("employees projects invoices payments vendors customers", schema, 2).tables).toHaveLength(2);
  });

  test("literals: quoted strings and capitalised names after the first word", () => {
    expect(questionLiterals("Show invoices of 'Acme Logistics' in March")).toEqual(["Acme Logistics", "March"]);
    expect(questionLiterals("Which projects does Acme Logistics have?")).toEqual(["Acme Logistics"]);
    expect(questionLiterals("Show all active projects")).toEqual([]);
    expect(questionLiterals('"a" "b" "c" "d"', 3)).toEqual(["a", "b", "c"].filter((s) => s.length > 1));
  });

  test("literal values are found in the linked tables' text columns as the database spells them", async () => {
    const found = await lookupLiterals("Invoices for customer 'acme logistics'", schema, ["customers", "invoices"], db);
    expect(found).toContainEqual({
      text: "acme logistics",
      table: "customers",
      column: "name",
      value: "Acme Logistics",
    });
    expect(await lookupLiterals("customer 'no such name at all'", schema, ["customers"], db)).toEqual([]);
    // LIKE metacharacters in the question are literal, not wildcards.
    expect(await lookupLiterals("customer '%'", schema, ["customers"], db)).toEqual([]);
  }, 60_000);

  test("a value no linked table holds is looked up in the other tables, and its table is linked", async () => {
    const linked: LinkedSchema = { tables: ["projects"], columns: [], literals: [] };
    await linkLiterals("projects in 'Sweden'", schema, linked, db);
    expect(linked.literals[0]).toMatchObject({ text: "Sweden", value: "Sweden" });
    expect(linked.tables[0]).toBe("projects");
    expect(linked.tables.slice(1)).toContain(linked.literals[0]!.table);
    const none = await linkLiterals("projects of 'no such name at all'", schema, linkSchema("projects", schema), db);
    expect(none.literals).toEqual([]);
    expect(none.tables).toEqual(linkSchema("projects", schema).tables);
  }, 60_000);
});
