// The hostile suite forced through the executor, with no validator in front: on a persistent, seeded
// PGlite, every statement of sql/hostileStatements.ts runs through execute(); afterwards the table list,
// the column list, every table's row count, the roles and the functions are exactly what they were —
// in the running executor and after reopening the data directory from disk.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isGlRlError } from "../errors.js";
import { seedInto } from "./demoDatabase.js";
import { hostileStatements } from "./hostileStatements.js";
import { createPgliteExecutor, type PgliteExecutor } from "./pgliteExecutor.js";

/** Admin-free snapshot through execute(): tables, columns, row counts, roles, user functions. */
async function snapshot(db: PgliteExecutor): Promise<Record<string, unknown>> {
  const columns = await db.execute(
    `SELECT table_schema || '.' || table_name || '.' || column_name || ':' || data_type FROM information_schema.columns
     WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
    { maxRows: 100_000 },
  );
  const tables = await db.execute(
    `SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`,
  );
  const counts: Record<string, number> = {};
  for (const [schema, table] of tables.rows as [string, string][]) {
    counts[`${schema}.${table}`] = Number(
      (await db.execute(`SELECT count(*) FROM "${schema}"."${table}"`)).rows[0]![0],
    );
  }
  const roles = await db.execute("SELECT rolname, rolsuper FROM pg_roles ORDER BY 1");
  const functions = await db.execute(
    "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'",
  );
  const sums = await db.execute(
    "SELECT sum(debit), sum(credit), count(*) FILTER (WHERE posted) FROM journal_lines JOIN journal_entries USING (entry_id)",
  );
  return { columns: columns.rows, counts, roles: roles.rows, functions: functions.rows, sums: sums.rows };
}

describe("hostile statements through the PGlite executor", () => {
  let dir: string;
  let db: PgliteExecutor;
  let before: Record<string, unknown>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "gl-rl-hostile-"));
    db = await createPgliteExecutor({ dataDir: dir });
    await seedInto(db);
    before = await snapshot(db);
  }, 90_000);
  afterAll(async () => {
    await db?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("leaves data, schema, roles and functions unchanged", async () => {
    expect(hostileStatements.length).toBeGreaterThanOrEqual(40);
    expect(Object.keys(before.counts as object).length).toBeGreaterThanOrEqual(16);
    const outcomes: { sql: string; category: string; ok: boolean; code?: string }[] = [];
    for (const { sql, category } of hostileStatements) {
      try {
        await db.execute(sql, { timeoutMs: 1500 });
        outcomes.push({ sql, category, ok: true });
      } catch (error) {
        expect(isGlRlError(error)).toBe(true);
        outcomes.push({ sql, category, ok: false, code: isGlRlError(error) ? error.code : undefined });
      }
    }
    // Everything that writes, changes schema, stacks statements or reads server files fails outright.
    const mustFail = outcomes.filter(
      (o) =>
        ["write", "ddl", "multi-statement", "comment-injection", "string-injection", "locking"].includes(o.category) ||
        /pg_read_file|pg_ls_dir|lo_import|lo_export|pg_authid|pg_shadow|nextval|COPY/.test(o.sql),
    );
    expect(mustFail.filter((o) => o.ok)).toEqual([]);
    // On real tables, writes fail because the transaction is read-only (or the reader role lacks rights).
    const realWrites = outcomes.filter(
      (o) => /^(INSERT|UPDATE|DELETE|TRUNCATE|DROP|ALTER) /.test(o.sql) && /gl_accounts|journal_/.test(o.sql),
    );
    expect(realWrites.length).toBeGreaterThanOrEqual(5);
    expect(realWrites.filter((o) => o.code !== "read_only_violation")).toEqual([]);
    // The sleeps and the runaway count were stopped by the time limit.
    const timeouts = outcomes.filter((o) => o.code === "timeout").map((o) => o.sql);
    expect(timeouts).toEqual(
      expect.arrayContaining(["SELECT pg_sleep(30)", "SELECT count(*) FROM generate_series(1, 200000000)"]),
    );
    expect(await snapshot(db)).toEqual(before);
  }, 120_000);

  it("still has the same database after reopening the data directory", async () => {
    await db.close();
    db = await createPgliteExecutor({ dataDir: dir });
    expect(await snapshot(db)).toEqual(before);
  }, 60_000);
});
