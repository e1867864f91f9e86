import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createPgliteExecutor, type PgliteExecutor } from "../sql/pgliteExecutor.js";
import { seedDemoDatabase, SEED_VERSION } from "./seedDemoDatabase.js";

const sha = (text: string): string => createHash("sha256").update(text).digest("hex");

describe("seedDemoDatabase", () => {
  let db: PgliteExecutor;
  const scalar = async (sql: string): Promise<number> => Number((await db.execute(sql)).rows[0]![0]);

  beforeAll(async () => {
    db = await createPgliteExecutor();
    await db.admin(await readFile(new URL("./schema.sql", import.meta.url), "utf8"));
    await db.admin(seedDemoDatabase());
  }, 90_000);
  afterAll(async () => {
    await db?.close();
  });

  it("is deterministic: two seeds are byte-identical", () => {
    expect(SEED_VERSION).toMatch(/\S/);
    expect(sha(seedDemoDatabase())).toBe(sha(seedDemoDatabase()));
  });

  it("has the promised volumes", async () => {
    expect(await scalar("SELECT count(*) FROM companies")).toBeGreaterThanOrEqual(3);
    expect(await scalar("SELECT count(DISTINCT currency) FROM companies")).toBe(3);
    expect(await scalar("SELECT count(*) FROM departments")).toBeGreaterThanOrEqual(10);
    expect(await scalar("SELECT count(*) FROM employees")).toBeGreaterThanOrEqual(200);
    expect(await scalar("SELECT count(*) FROM customers")).toBeGreaterThanOrEqual(35);
    expect(await scalar("SELECT count(DISTINCT name) FROM customers")).toBe(
      await scalar("SELECT count(*) FROM customers"),
    );
    expect(await scalar("SELECT count(*) FROM projects")).toBeGreaterThanOrEqual(60);
    expect(await scalar("SELECT count(*) FROM gl_accounts")).toBeGreaterThanOrEqual(35);
    expect(await scalar("SELECT count(*) FROM journal_lines")).toBeGreaterThanOrEqual(5000);
    expect(await scalar("SELECT count(*) FROM timesheets")).toBeGreaterThanOrEqual(2000);
    expect(await scalar("SELECT count(*) FROM fiscal_periods WHERE fiscal_year BETWEEN 2022 AND 2025")).toBe(48);
    for (const table of ["project_assignments", "invoices", "payments", "vendors", "vendor_bills", "budgets"]) {
      expect(await scalar(`SELECT count(*) FROM ${table}`)).toBeGreaterThan(10);
    }
  }, 30_000);

  it("balances every posted journal entry and keeps some entries unposted", async () => {
    expect(
      await scalar(`SELECT count(*) FROM (SELECT l.entry_id FROM journal_lines l JOIN journal_entries e USING (entry_id)
      WHERE e.posted GROUP BY l.entry_id HAVING sum(l.debit) <> sum(l.credit)) x`),
    ).toBe(0);
    expect(await scalar("SELECT count(*) FROM journal_entries WHERE NOT posted")).toBeGreaterThan(0);
    expect(
      await scalar(
        "SELECT count(*) FROM journal_entries e WHERE NOT EXISTS (SELECT 1 FROM journal_lines l WHERE l.entry_id = e.entry_id)",
      ),
    ).toBe(0);
  });

  it("covers every status, NULL budgets, the manager hierarchy and closed periods", async () => {
    const statuses = async (table: string): Promise<string[]> =>
      (await db.execute(`SELECT DISTINCT status FROM ${table} ORDER BY 1`)).rows.map((r) => String(r[0]));
    expect(await statuses("projects")).toEqual(["active", "cancelled", "completed", "on_hold", "planned"]);
    expect(await statuses("invoices")).toEqual(["draft", "overdue", "paid", "sent", "void"]);
    expect(await statuses("vendor_bills")).toEqual(["open", "overdue", "paid", "void"]);
    expect(await statuses("employees")).toEqual(["active", "on_leave", "terminated"]);
    expect(await scalar("SELECT count(*) FROM projects WHERE budget IS NULL")).toBeGreaterThan(0);
    expect(await scalar("SELECT min(budget) FROM projects")).toBeGreaterThanOrEqual(10_000);
    expect(await scalar("SELECT max(budget) FROM projects")).toBeLessThanOrEqual(5_000_000);
    expect(await scalar("SELECT count(*) FROM projects WHERE project_code !~ '^PRJ-[0-9]{4}$'")).toBe(0);
    expect(await scalar("SELECT count(*) FROM employees WHERE manager_id IS NULL")).toBe(1);
    // Every manager chain reaches the root: a recursive walk visits every employee.
    expect(
      await scalar(`WITH RECURSIVE chain AS (SELECT employee_id FROM employees WHERE manager_id IS NULL
      UNION ALL SELECT e.employee_id FROM employees e JOIN chain c ON e.manager_id = c.employee_id) SELECT count(*) FROM chain`),
    ).toBe(await scalar("SELECT count(*) FROM employees"));
    expect(await scalar("SELECT count(*) FROM fiscal_periods WHERE is_closed")).toBeGreaterThan(0);
    expect(await scalar("SELECT count(*) FROM fiscal_periods WHERE NOT is_closed")).toBeGreaterThan(0);
    expect(await scalar("SELECT count(*) FROM gl_accounts WHERE parent_account_id IS NOT NULL")).toBeGreaterThan(0);
  });
});
