import { describe, expect, test } from "@jest/globals";
import { augmentLiterals, copiedLiterals } from "./literalAugmentation.js";

describe("copiedLiterals", () => {
  test.each([
    [
      "customers in Sweden",
      "SELECT name FROM customers WHERE country = 'Sweden'",
      [{ text: "Sweden", kind: "string" }],
    ],
    [
      "how many ppl did we hire in 2014",
      "SELECT COUNT(*) FROM employees WHERE EXTRACT(YEAR FROM hire_date) = 2014",
      [{ text: "2014", kind: "integer" }],
    ],
    ["rev share % top5 custs 2025", "SELECT 5, 2025, ROUND(x, 2) FROM t LIMIT 5", [{ text: "2025", kind: "integer" }]],
    ["count employees on leave", "SELECT COUNT(*) FROM employees WHERE status = 'on_leave'", []],
    [
      "PRJ-1047 billable hrs",
      "SELECT 1 FROM projects p WHERE p.project_code = 'PRJ-1047'",
      [{ text: "PRJ-1047", kind: "string" }],
    ],
  ])("%s", (question, sql, expected) => {
    expect(copiedLiterals(question, sql)).toEqual(expected);
  });
});

describe("augmentLiterals", () => {
  const items = [
    { question: "customers in Sweden", evidence: "", sql: "SELECT name FROM customers WHERE country = 'Sweden'" },
    {
      question: "PRJ-1019 actual spend in 2024",
      evidence: "",
      sql: "SELECT 1 FROM p WHERE code = 'PRJ-1019' AND y = 2024",
    },
    { question: "how many accounts", evidence: "", sql: "SELECT COUNT(*) FROM gl_accounts" },
  ];

  test("adds consistent swapped copies of items with copied literals, deterministically", () => {
    const out = augmentLiterals(items, { copies: 3, seed: 1, pool: ["Chile", "Japan"] });
    expect(out.slice(0, 3)).toEqual(items);
    expect(out).toHaveLength(3 + 3 * 2);
    for (const variant of out.slice(3)) {
      const literal = /'([^']*)'/.exec(variant.sql)?.[1];
      expect(literal).toMatch(/\S/);
      expect(variant.question).toContain(literal!);
    }
    const countries = out.slice(3).filter((v) => v.sql.includes("country"));
    for (const v of countries) expect(["Chile", "Japan"]).toContain(/'([^']*)'/.exec(v.sql)![1]);
    const projects = out.slice(3).filter((v) => v.sql.includes("code"));
    for (const v of projects) {
      const [, code, year] = /'(PRJ-\d{4})' AND y = (\d{4})$/.exec(v.sql)!;
      expect(v.question).toBe(`${code} actual spend in ${year}`);
      expect(year![0]).not.toBe("0");
    }
    expect(augmentLiterals(items, { copies: 3, seed: 1, pool: ["Chile", "Japan"] })).toEqual(out);
    expect(augmentLiterals(items, { copies: 3, seed: 2, pool: ["Chile", "Japan"] })).not.toEqual(out);
  });

  test("copies: 0 returns the items unchanged", () => {
    expect(augmentLiterals(items, { copies: 0, seed: 0 })).toEqual(items);
  });
});
