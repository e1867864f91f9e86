/**
 * Every gold query of the demo dataset, executed on the real demo database through the SQL toolkit
 * (openDatabase("demo") → the PGlite executor): it parses, runs within the default 5 s limit, matches
 * itself under executionMatch, and returns rows unless the item expects an empty answer.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { executionMatch } from "../sql/executionMatch.js";
import { type ExecutionOutcome, executeOutcome } from "../sql/sqlExecutor.js";
import { openDatabase } from "../sql/openDatabase.js";
import { parseSql } from "../sql/parseSql.js";
import type { SqlExecutor } from "../sql/sqlExecutor.js";
import { DATASET_SPLITS, loadDatasetSplits, type DatasetItem } from "./loadDataset.js";
import { DEMO_TABLES } from "./seedDemoDatabase.js";

const SCHEMA_TABLES = [...DEMO_TABLES].sort();

let db: SqlExecutor;
let items: DatasetItem[];
/** One representative item per distinct gold SQL (paraphrases share it). */
let bySql: Map<string, DatasetItem>;

beforeAll(async () => {
  const splits = await loadDatasetSplits();
  items = DATASET_SPLITS.flatMap((s) => splits[s]);
  bySql = new Map(items.map((i) => [i.sql, i]));
  db = await openDatabase("demo");
}, 60_000);

afterAll(async () => {
  await db?.close();
});

describe("gold SQL of the demo dataset", () => {
  test("every gold query parses as exactly one statement", () => {
    const failures = [...bySql.keys()]
      .map((sql) => ({ sql, parsed: parseSql(sql) }))
      .filter((p) => p.parsed.statementCount !== 1);
    expect(failures.map((f) => `${f.sql} → ${f.parsed.error}`)).toEqual([]);
    expect(bySql.size).toBeGreaterThan(200);
  });

  test("gold SQL follows the one canonical style (data/questionTemplates.ts)", () => {
    const offences: string[] = [];
    const ALIAS: Record<string, string> = {
      companies: "co",
      departments: "d",
      customers: "c",
      projects: "p",
      project_assignments: "pa",
      gl_accounts: "a",
      fiscal_periods: "fp",
      journal_entries: "je",
      journal_lines: "jl",
      invoices: "i",
      payments: "pm",
      vendors: "v",
      vendor_bills: "vb",
      budgets: "b",
      timesheets: "t",
    };
    for (const [sql, item] of bySql) {
      if (/[;\n]|\s{2}/.test(sql)) offences.push(`${item.id}: not one line / has ';' or double spaces`);
      if (
        /\b(select|from|where|join|group by|order by|having|limit|with|union|case|when|then|else|end|and|or|not|as|on)\b/.test(
          sql.replace(/'[^']*'/g, "''"),
        )
      )
        offences.push(`${item.id}: lower-case keyword`);
      if (/CURRENT_DATE|NOW\(\)|INTERSECT|EXCEPT/i.test(sql))
        offences.push(`${item.id}: CURRENT_DATE/NOW()/INTERSECT/EXCEPT`);
      for (const m of sql.matchAll(/\b(?:FROM|JOIN) (\w+) (\w+)/g)) {
        const [table, alias] = [m[1]!, m[2]!];
        if (
          ALIAS[table] !== undefined &&
          !["WHERE", "GROUP", "ORDER", "JOIN", "LEFT"].includes(alias) &&
          alias !== ALIAS[table] &&
          !(table === "employees")
        ) {
          offences.push(`${item.id}: ${table} aliased ${alias}, expected ${ALIAS[table]}`);
        }
      }
    }
    expect(offences).toEqual([]);
  });

  test("the tables field lists exactly the tables each query reads", () => {
    const wrong: string[] = [];
    for (const [sql, item] of bySql) {
      const read = SCHEMA_TABLES.filter((t) => new RegExp(`\\b(FROM|JOIN) ${t}\\b`).test(sql));
      if (JSON.stringify(read) !== JSON.stringify([...(item.tables ?? [])].sort()))
        wrong.push(`${item.id}: ${JSON.stringify(item.tables)} vs ${JSON.stringify(read)}`);
    }
    expect(wrong).toEqual([]);
  });

  test("every gold query runs within 5 s, returns rows (or none when expected) and matches itself", async () => {
    const problems: string[] = [];
    let slowest = 0;
    for (const [sql, item] of bySql) {
      const first = await executeOutcome(db, sql, { timeoutMs: 5000 });
      if (!first.ok) {
        problems.push(`${item.id}: ${first.code} ${first.error}`);
        continue;
      }
      slowest = Math.max(slowest, first.result.elapsedMs);
      const rows = first.result.rowCount;
      if (item.expect_empty === true ? rows !== 0 : rows === 0)
        problems.push(`${item.id}: ${rows} rows (expect_empty=${item.expect_empty === true})`);
      if (first.result.truncated) problems.push(`${item.id}: more rows than the row cap`);
      const again: ExecutionOutcome = { ok: true, result: await db.execute(sql, { timeoutMs: 5000 }) };
      const verdict = executionMatch(first, again, { ordered: item.ordered === true });
      if (!verdict.match) problems.push(`${item.id}: does not match itself (${verdict.reason})`);
    }
    expect(problems).toEqual([]);
    expect(slowest).toBeLessThan(5000);
  }, 180_000);

  test("execution match tells a wrong answer from the gold one", async () => {
    // guards the self-match above against a comparison that accepts anything
    const gold = items.find((i) => i.id === "projects_status_budget_over.0.0")!;
    expect(gold.question).toBe("Show all active projects with budget over 100000");
    const wrongSql = gold.sql.replace("budget > 100000", "budget > 1000000");
    const a: ExecutionOutcome = { ok: true, result: await db.execute(gold.sql) };
    const b: ExecutionOutcome = { ok: true, result: await db.execute(wrongSql) };
    expect(a.ok && a.result.rowCount).toBeGreaterThan(b.ok ? b.result.rowCount : 0);
    expect(executionMatch(a, b, { ordered: false }).match).toBe(false);
  });
});
