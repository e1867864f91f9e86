// Against a real server when GLRL_TEST_PG_URL is set (CI starts Debian's PostgreSQL); the unreachable
// path always runs.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { isAbortError, isDatabaseError, isTimeoutError } from "../errors.js";
import { createPostgresExecutor, describePostgresUrl, type PostgresExecutor } from "./postgresExecutor.js";

describe("createPostgresExecutor without a server", () => {
  it("fails fast with a DatabaseError and a hint on a closed port", async () => {
    const started = performance.now();
    const error = await createPostgresExecutor("postgres://postgres:pw@127.0.0.1:9/postgres").catch((e: unknown) => e);
    expect(isDatabaseError(error) && error.code).toBe("db_unreachable");
    expect((error as { hint?: string }).hint).toMatch(/server is running/);
    expect((error as Error).message).toContain("postgres://postgres@127.0.0.1:9/postgres");
    expect(performance.now() - started).toBeLessThan(3500);
  });

  it("hides the password in its description", () => {
    expect(describePostgresUrl("postgresql://alice:s3cret@db.example:6543/erp")).toBe(
      "postgresql://alice@db.example:6543/erp",
    );
  });
});

const url = process.env.GLRL_TEST_PG_URL;
// Registered only with a server (no skipped tests without one).
if (url)
  describe("createPostgresExecutor against GLRL_TEST_PG_URL", () => {
    let db: PostgresExecutor;
    const table = `glrl_test_${process.pid}`;
    beforeAll(async () => {
      db = await createPostgresExecutor(url!);
      await db.admin(`DROP TABLE IF EXISTS ${table}; CREATE TABLE ${table} (id int PRIMARY KEY, name text, amount numeric(10,2));
      INSERT INTO ${table} SELECT g, 'n' || g, g * 2.5 FROM generate_series(1, 1500) g;`);
    });
    afterAll(async () => {
      await db?.admin(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
      await db?.close();
    });

    it("runs a statement with parameters and type names", async () => {
      const result = await db.execute(
        `SELECT id, name, amount, DATE '2024-02-29' + id AS due FROM ${table} WHERE id = $1`,
        { params: [3] },
      );
      expect(result.columns).toEqual([
        { name: "id", type: "int4" },
        { name: "name", type: "text" },
        { name: "amount", type: "numeric" },
        { name: "due", type: "date" },
      ]);
      expect(result.rows).toEqual([[3, "n3", "7.50", "2024-03-03"]]);
    });

    it("caps rows", async () => {
      const result = await db.execute(`SELECT id FROM ${table} ORDER BY id`);
      expect(result.rowCount).toBe(1000);
      expect(result.truncated).toBe(true);
    });

    it("refuses writes and stacked statements (extended protocol), data unchanged", async () => {
      for (const sql of [
        `DELETE FROM ${table}`,
        `SELECT 1; COMMIT; DELETE FROM ${table}`,
        `DROP TABLE ${table}`,
        "SELECT set_config('transaction_read_only', 'off', false)",
      ]) {
        const error = await db.execute(sql).catch((e: unknown) => e);
        expect(isDatabaseError(error)).toBe(true);
      }
      expect((await db.execute(`SELECT count(*)::int FROM ${table}`)).rows).toEqual([[1500]]);
    });

    it("bounds the result in bytes: a 200 MB value never reaches the client, wide rows are cut", async () => {
      const rss = process.memoryUsage().rss;
      const giant = await db.execute("SELECT repeat('x', 200000000) AS big", { timeoutMs: 20_000 });
      expect(giant).toMatchObject({ rows: [], rowCount: 0, truncated: true });
      expect(giant.warning).toMatch(/16 MB size limit/);
      expect(process.memoryUsage().rss - rss).toBeLessThan(100 * 2 ** 20);
      const wide = await db.execute("SELECT g, repeat('y', 100000) AS pad FROM generate_series(1, 500) g", {
        timeoutMs: 20_000,
      });
      expect(wide.truncated).toBe(true);
      expect(wide.rowCount).toBeGreaterThan(150); // 16 MB holds 167 of these rows (100,011 bytes on the wire each)
      expect(wide.rowCount).toBeLessThan(168);
      expect(wide.rows.map((r) => r[0])).toEqual(Array.from({ length: wide.rowCount }, (_, i) => i + 1));
      // The pool replaced the connection the guard closed.
      expect((await db.execute("SELECT 1 AS one")).rows).toEqual([[1]]);
      const error = await db.execute(`SELECT nope FROM ${table}`).catch((e: unknown) => e);
      expect(isDatabaseError(error) && (error.context as { position?: string }).position).toBe("8");
    });

    it("enforces statement_timeout and aborts on a signal", async () => {
      const started = performance.now();
      const error = await db.execute("SELECT pg_sleep(3)", { timeoutMs: 300 }).catch((e: unknown) => e);
      expect(isTimeoutError(error)).toBe(true);
      expect(performance.now() - started).toBeLessThan(1500);
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 200);
      const aborted = await db.execute("SELECT pg_sleep(3)", { signal: controller.signal }).catch((e: unknown) => e);
      expect(isAbortError(aborted)).toBe(true);
      expect((await db.execute("SELECT 1 AS one")).rows).toEqual([[1]]);
    });
  });
