// analyzeSql on the real parser, with and without the demo schema (data/schema.sql).
import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { analyzeSql, analyzeSqlWithSchema, createSchemaItemsAnalyzer, exprSql, toSchemaItems } from "./analyzeSql.js";
import { checkBusinessRules, DEMO_BUSINESS_RULES } from "./businessRules.js";
import { analyzePerformance, summarisePlan } from "./performanceAnalysis.js";
import { schemaFromDdl } from "./schemaModel.js";

const schema = schemaFromDdl(readFileSync(new URL("../data/schema.sql", import.meta.url), "utf8"));
const cols = (sql: string, withSchema = true): string[] =>
  analyzeSql(sql, withSchema ? schema : undefined)!.columns.map((c) => `${c.table ?? "?"}.${c.column}`);

// Columns are listed in walk order: FROM (and ON / USING) first, then the select list, WHERE, …
describe("analyzeSql", () => {
  it.each([
    [
      "single table, unqualified, no schema",
      "SELECT name FROM projects WHERE budget > 10",
      false,
      ["projects.name", "projects.budget"],
    ],
    [
      "two tables without a schema: unqualified stays unresolved",
      "SELECT name FROM projects p JOIN customers c ON c.customer_id = p.customer_id",
      false,
      ["customers.customer_id", "projects.customer_id", "?.name"],
    ],
    [
      "two tables with the schema: resolved",
      "SELECT budget, industry FROM projects p JOIN customers c ON c.customer_id = p.customer_id",
      true,
      ["customers.customer_id", "projects.customer_id", "projects.budget", "customers.industry"],
    ],
    [
      "through a CTE alias",
      "WITH t AS (SELECT budget AS b FROM projects) SELECT t.b FROM t",
      true,
      ["projects.budget"],
    ],
    ["through a subquery", "SELECT s.n FROM (SELECT name AS n FROM customers) s", true, ["customers.name"]],
    [
      "USING on both sides",
      "SELECT 1 FROM invoices JOIN payments USING (invoice_id)",
      true,
      ["payments.invoice_id", "invoices.invoice_id"],
    ],
    [
      "lateral sees the left side",
      "SELECT x.h FROM employees e CROSS JOIN LATERAL (SELECT sum(t.hours) AS h FROM timesheets t WHERE t.employee_id = e.employee_id) x",
      true,
      ["timesheets.hours", "timesheets.employee_id", "employees.employee_id"],
    ],
    ["ORDER BY an output alias is not a column", "SELECT count(*) AS n FROM projects ORDER BY n", true, []],
    [
      "union: both sides",
      "SELECT name FROM customers UNION SELECT name FROM vendors",
      true,
      ["customers.name", "vendors.name"],
    ],
  ])("%s", (_name, sql, withSchema, expected) => {
    expect(cols(sql, withSchema)).toEqual(expected);
  });

  it("joins, aggregates, literals, order/limit, star and CTE names", () => {
    const a = analyzeSql(
      "WITH x AS (SELECT * FROM projects) SELECT x.status, SUM(x.budget) AS total, count(DISTINCT x.customer_id) FROM x LEFT JOIN customers c ON c.customer_id = x.customer_id WHERE x.status IN ('active', 'planned') AND x.budget > 1000.5 GROUP BY x.status ORDER BY total DESC LIMIT 3",
      schema,
    )!;
    expect(a.joins).toEqual([
      { type: "LEFT JOIN", tables: ["x", "customers"], condition: "c.customer_id = x.customer_id" },
    ]);
    expect(a.aggregates).toEqual(["sum(x.budget)", "count(distinct x.customer_id)"]);
    expect(a.literals).toEqual(["active", "planned", 1000.5, 3]);
    expect(a).toMatchObject({
      hasOrderBy: true,
      hasLimit: true,
      selectStar: true,
      cteNames: ["x"],
      tables: ["projects", "customers"],
    });
    expect(analyzeSql("SELECT name FROM projects", schema)).toMatchObject({
      hasOrderBy: false,
      hasLimit: false,
      selectStar: false,
    });
    // ORDER BY inside a subquery is not the outermost one.
    expect(analyzeSql("SELECT * FROM (SELECT name FROM projects ORDER BY name LIMIT 2) s", schema)).toMatchObject({
      hasOrderBy: false,
      hasLimit: false,
    });
  });

  it("reports problems only with a schema, and null for what is not one query", () => {
    expect(analyzeSqlWithSchema("SELECT nme FROM projects")!.problems).toEqual([]);
    expect(analyzeSqlWithSchema("SELECT nme FROM projects", schema)!.problems.map((p) => p.code)).toEqual([
      "unknown_column",
    ]);
    expect(analyzeSql("SELECT FROM WHERE")).toBeNull();
    expect(analyzeSqlWithSchema("SELECT t FROM projects t", schema)!.problems).toEqual([]);
    const cte = analyzeSqlWithSchema("WITH totals AS (SELECT 1 AS n) SELECT n FROM total", schema)!.problems;
    expect(cte.map((p) => [p.code, p.candidates.includes("totals")])).toEqual([["unknown_table", true]]);
    expect(analyzeSql("SELECT 1; SELECT 2")).toBeNull();
    expect(analyzeSql("DELETE FROM projects")).toBeNull();
  });

  it("the rewards adapter: lower-cased table and table.column items", () => {
    const analyze = createSchemaItemsAnalyzer(schema);
    expect(analyze("SELECT p.Name FROM Projects p WHERE p.budget > 0")).toEqual({
      tables: ["projects"],
      columns: ["projects.name", "projects.budget"],
    });
    expect(analyze("not sql")).toBeNull();
    expect(toSchemaItems(analyzeSql("SELECT name FROM a JOIN b ON a.id = b.id")!)).toEqual({
      tables: ["a", "b"],
      columns: ["a.id", "b.id", "name"],
    });
  });

  it("performance facts: cartesian pairs, non-sargable predicates, correlated subqueries", () => {
    const a = analyzeSql(
      "SELECT 1 FROM projects p, customers c, invoices i WHERE i.customer_id = c.customer_id AND upper(p.name) = 'X' AND p.budget > (SELECT avg(budget) FROM projects q WHERE q.department_id = p.department_id)",
      schema,
    )!;
    expect(a.cartesianJoins).toEqual([["p", "c"]]);
    expect(a.nonSargable).toEqual(["upper(p.name)"]);
    expect(a.correlatedSubqueries).toBe(1);
    const report = analyzePerformance(a, {
      schema,
      plan: [
        {
          Plan: {
            "Node Type": "Nested Loop",
            "Total Cost": 2e6,
            "Plan Rows": 5000,
            Plans: [{ "Node Type": "Seq Scan", "Total Cost": 1, "Plan Rows": 1 }],
          },
        },
      ],
    });
    expect(report.plan).toEqual({ totalCost: 2e6, planRows: 5000, nodeTypes: ["Nested Loop", "Seq Scan"] });
    expect(report.warnings.map((w) => w.code)).toEqual([
      "perf_cartesian_join",
      "perf_no_limit",
      "perf_non_sargable",
      "perf_correlated_subquery",
      "perf_high_cost",
    ]);
    expect(summarisePlan("not json")).toBeNull();
    expect(summarisePlan(JSON.stringify([{ Plan: { "Total Cost": 3, "Plan Rows": 1 } }]))).toMatchObject({
      totalCost: 3,
    });
  });

  it("business rules read the analysis", () => {
    const run = (sql: string): string[] =>
      checkBusinessRules(analyzeSql(sql, schema)!, sql, DEMO_BUSINESS_RULES).map((i) => i.code);
    expect(run("SELECT sum(debit) FROM journal_lines")).toEqual(["rule_posted_entries_only"]);
    expect(
      run("SELECT sum(jl.debit) FROM journal_lines jl JOIN journal_entries je USING (entry_id) WHERE posted"),
    ).toEqual([]);
    expect(run("SELECT avg(salary) FROM employees")).toEqual(["rule_employee_status"]);
    expect(run("SELECT avg(salary) FROM employees WHERE status = 'active'")).toEqual([]);
    expect(run("SELECT name FROM projects")).toEqual([]);
  });

  it("exprSql prints compact SQL", () => {
    const a = analyzeSql("SELECT max(lower(name)) FROM projects")!;
    expect(a.aggregates).toEqual(["max(lower(name))"]);
    expect(exprSql({ type: "ref", name: "x" })).toBe("x");
  });
});
