import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAbortError, isDatabaseError, isTimeoutError } from "../errors.js";
import { createPgliteExecutor, READER_ROLE_SQL, type PgliteExecutor } from "./pgliteExecutor.js";

const SETUP = `
CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2), added date);
INSERT INTO items SELECT g, 'item ' || g, g * 1.5, DATE '2024-01-01' + g FROM generate_series(1, 2500) g;
${READER_ROLE_SQL}`;

async function countItems(executor: PgliteExecutor): Promise<number> {
  const { rows } = await executor.execute("SELECT count(*)::int FROM items");
  return rows[0]![0] as number;
}

describe("createPgliteExecutor (in memory)", () => {
  let executor: PgliteExecutor;
  beforeAll(async () => {
    executor = await createPgliteExecutor();
    await executor.admin(SETUP);
  }, 60_000);
  afterAll(async () => {
    await executor?.close();
  });

  it("runs a statement in the worker and reports PostgreSQL type names", async () => {
    const result = await executor.execute("SELECT id, name, price, added FROM items WHERE id = $1", { params: [7] });
    expect(result.columns).toEqual([
      { name: "id", type: "int4" },
      { name: "name", type: "text" },
      { name: "price", type: "numeric" },
      { name: "added", type: "date" },
    ]);
    expect(result.rows).toHaveLength(1);
    expect(result.rows[0]!.slice(1)).toEqual(["item 7", "10.50", "2024-01-08"]);
    expect(result.truncated).toBe(false);
    expect(result.elapsedMs).toBeGreaterThanOrEqual(0);
  });

  it("caps rows at maxRows (default 1000) and sets truncated", async () => {
    const capped = await executor.execute("SELECT id FROM items ORDER BY id");
    expect(capped.rowCount).toBe(1000);
    expect(capped.rows).toHaveLength(1000);
    expect(capped.truncated).toBe(true);
    const small = await executor.execute("SELECT id FROM items ORDER BY id", { maxRows: 3 });
    expect(small.rows).toEqual([[1], [2], [3]]);
    expect(small.truncated).toBe(true);
    const exact = await executor.execute("SELECT id FROM items WHERE id <= 3", { maxRows: 3 });
    expect(exact.truncated).toBe(false);
  });

  it("refuses writes, stacked statements and read-only escapes without changing data", async () => {
    const attempts = [
      "DELETE FROM items",
      "WITH d AS (DELETE FROM items RETURNING 1) SELECT count(*) FROM d",
      "SELECT 1; DELETE FROM items",
      "SELECT set_config('transaction_read_only', 'off', false)",
      "DROP TABLE items",
    ];
    for (const sql of attempts) {
      const error = await executor.execute(sql).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isDatabaseError(error)).toBe(true);
    }
    const readOnly = await executor.execute("UPDATE items SET name = 'x'").catch((e: unknown) => e);
    expect(isDatabaseError(readOnly) && readOnly.code).toBe("read_only_violation");
    expect(await countItems(executor)).toBe(2500);
    const { rows } = await executor.execute("SELECT name FROM items WHERE id = 1");
    expect(rows).toEqual([["item 1"]]);
  });

  it("reports SQL errors as DatabaseError with the SQLSTATE", async () => {
    const error = await executor.execute("SELECT nope FROM items").catch((e: unknown) => e);
    expect(isDatabaseError(error)).toBe(true);
    expect((error as Error).message).toMatch(/nope.*42703/);
  });

  it("stops pg_sleep past the limit by restarting the worker, and works again afterwards", async () => {
    const before = executor.restarts;
    const started = performance.now();
    const error = await executor.execute("SELECT pg_sleep(30)", { timeoutMs: 500 }).catch((e: unknown) => e);
    const waited = performance.now() - started;
    expect(isTimeoutError(error)).toBe(true);
    expect(waited).toBeLessThan(500 + 6000); // the limit + the restart (0.6–1.5 s quiet, up to ~4.5 s on a loaded machine), far below the 30 s sleep
    expect(executor.restarts).toBe(before + 1);
    expect(await countItems(executor)).toBe(2500); // admin-written data survived the restart
  }, 30_000);

  it("stops a CPU-bound runaway query and aborts on a signal", async () => {
    const started = performance.now();
    const error = await executor
      .execute("SELECT count(*) FROM generate_series(1, 200000000)", { timeoutMs: 800 })
      .catch((e: unknown) => e);
    expect(isTimeoutError(error)).toBe(true);
    expect(performance.now() - started).toBeLessThan(800 + 6000); // the count alone runs ~47 s
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const aborted = await executor
      .execute("SELECT pg_sleep(5)", { signal: controller.signal, timeoutMs: 10_000 })
      .catch((e: unknown) => e);
    expect(isAbortError(aborted)).toBe(true);
    expect(await countItems(executor)).toBe(2500);
  }, 30_000);

  it("bounds the result in bytes: a 20 MB value and many wide rows are cut at maxResultBytes with a warning", async () => {
    // One value past the 16 MB default: the worker drops it; only the (empty) kept result crosses threads.
    const giant = await executor.execute("SELECT repeat('x', 20000000) AS big, 1 AS one", { timeoutMs: 30_000 });
    expect(giant).toMatchObject({ rows: [], rowCount: 0, truncated: true });
    expect(giant.columns.map((c) => c.name)).toEqual(["big", "one"]);
    expect(giant.warning).toMatch(/cut at 0 rows: the next row would pass the 16 MB size limit/);
    // 500 rows of 100,000 characters = 50 MB: rows are kept while they fit 16 MB (167 of them).
    const wide = await executor.execute("SELECT g, repeat('y', 100000) AS pad FROM generate_series(1, 500) g", {
      timeoutMs: 30_000,
    });
    expect(wide.truncated).toBe(true);
    expect(wide.rowCount).toBe(Math.floor((16 * 2 ** 20) / (100_000 + 8)));
    expect(wide.rows.at(-1)![0]).toBe(wide.rowCount);
    expect(wide.warning).toMatch(/size limit/);
    const small = await executor.execute("SELECT g FROM generate_series(1, 10) g", { maxResultBytes: 40 });
    expect(small.rows).toEqual([[1], [2], [3], [4], [5]]);
    // The row cap is a warning too; a result within both caps has none.
    expect((await executor.execute("SELECT id FROM items", { maxRows: 2 })).warning).toMatch(
      /cut at 2 rows \(maxRows 2\)/,
    );
    expect((await executor.execute("SELECT id FROM items WHERE id < 3")).warning).toBeUndefined();
  }, 60_000);

  it("runs non-queries plainly and points error positions into the caller's SQL", async () => {
    const plan = await executor.execute("EXPLAIN SELECT id FROM items");
    expect(plan.rows.length).toBeGreaterThan(0);
    const error = await executor.execute("SELECT nope FROM items").catch((e: unknown) => e);
    expect(isDatabaseError(error) && (error.context as { position?: string }).position).toBe("8");
    const cte = await executor
      .execute("WITH d AS (DELETE FROM items RETURNING 1) SELECT count(*) FROM d")
      .catch((e: unknown) => e);
    expect(isDatabaseError(cte) && cte.code).toBe("read_only_violation");
  });

  it("dumps the database and loads the dump in a new executor", async () => {
    const dump = await executor.dump();
    expect(dump.byteLength).toBeGreaterThan(1000);
    const copy = await createPgliteExecutor({ dump, description: "copy" });
    try {
      expect(copy.description).toBe("copy");
      expect(await countItems(copy)).toBe(2500);
    } finally {
      await copy.close();
    }
  }, 30_000);
});

describe("createPgliteExecutor (persistent data directory)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "gl-rl-pglite-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps admin writes across reopen and restarts cleanly after a timeout", async () => {
    const first = await createPgliteExecutor({ dataDir: dir });
    await first.admin(SETUP);
    const error = await first.execute("SELECT pg_sleep(3)", { timeoutMs: 400 }).catch((e: unknown) => e);
    expect(isTimeoutError(error)).toBe(true);
    expect(await countItems(first)).toBe(2500);
    await first.close();
    const second = await createPgliteExecutor({ dataDir: dir });
    try {
      expect(second.description).toBe(`pglite:${dir}`);
      expect(await countItems(second)).toBe(2500);
    } finally {
      await second.close();
    }
  }, 60_000);

  it("rejects calls after close", async () => {
    const executor = await createPgliteExecutor({ dataDir: dir });
    await executor.close();
    const error = await executor.execute("SELECT 1").catch((e: unknown) => e);
    expect(isDatabaseError(error) && error.code).toBe("db_closed");
  }, 30_000);
});
