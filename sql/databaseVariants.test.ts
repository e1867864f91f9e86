// Test-suite variants (sql/databaseVariants.ts, docs/execution-match.md "Test suite") on the demo database in
// PGlite, and on a real PostgreSQL server when GLRL_TEST_PG_URL is set (CI starts Debian's).
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { randomBytes } from "node:crypto";
import { isDatabaseError } from "../errors.js";
import { seedDemoDatabase } from "../data/seedDemoDatabase.js";
import { type DatabaseVariants, databaseVariants, readVariantTables } from "./databaseVariants.js";
import { demoSchemaSql } from "./demoDatabase.js";
import { openDatabase } from "./openDatabase.js";
import { createPostgresExecutor, type PostgresExecutor } from "./postgresExecutor.js";
import type { SqlExecutor } from "./sqlExecutor.js";
import { quoteIdent } from "./variantProcedure.js";

type Runner = (sql: string) => Promise<unknown[][]>;

/** Row count and a content hash of every table, through `run` (unqualified names: the search path decides). */
async function fingerprint(run: Runner, tables: readonly string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of tables) {
    const [row] = await run(
      `SELECT count(*)::text || ':' || coalesce(md5(string_agg(x::text, ',' ORDER BY x::text)), '') FROM ${quoteIdent(t)} x`,
    );
    out[t] = String(row![0]);
  }
  return out;
}

/** Rows of each foreign key that point at no row of the parent (0 everywhere when the keys hold). */
async function orphans(db: SqlExecutor, run: Runner): Promise<number[]> {
  const { tables } = await readVariantTables(db);
  const counts: number[] = [];
  for (const t of tables)
    for (const fk of t.constraints) {
      if (fk.type !== "f") continue;
      const on = fk.columns.map((c, k) => `p.${quoteIdent(fk.refColumns![k]!)} = c.${quoteIdent(c)}`).join(" AND ");
      const notNull = fk.columns.map((c) => `c.${quoteIdent(c)} IS NOT NULL`).join(" AND ");
      const [row] = await run(
        `SELECT count(*)::int FROM ${quoteIdent(t.name)} c WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${quoteIdent(fk.refTable!)} p WHERE ${on})`,
      );
      counts.push(Number(row![0]));
    }
  return counts;
}

/** Rows that repeat a primary key (0 when the keys hold). */
async function duplicateKeys(db: SqlExecutor, run: Runner): Promise<number> {
  const { tables } = await readVariantTables(db);
  let total = 0;
  for (const t of tables) {
    const pk = t.constraints.find((c) => c.type === "p");
    if (!pk) continue;
    const cols = pk.columns.map(quoteIdent).join(", ");
    const [row] = await run(
      `SELECT count(*)::int FROM (SELECT ${cols} FROM ${quoteIdent(t.name)} GROUP BY ${cols} HAVING count(*) > 1) d`,
    );
    total += Number(row![0]);
  }
  return total;
}

/** The checks every executor's variants pass: user data untouched, keys kept, each variant different. */
async function checkVariants(db: SqlExecutor, variants: DatabaseVariants): Promise<void> {
  const { tables } = await readVariantTables(db);
  const names = tables.map((t) => t.name);
  const onDb: Runner = async (sql) => (await db.execute(sql, { timeoutMs: 30_000 })).rows;
  const real = await fingerprint(onDb, names);
  for (let i = 0; i < variants.k; i++) {
    const onVariant: Runner = async (sql) => (await variants.execute(i, sql, { timeoutMs: 30_000 })).rows;
    const varied = await fingerprint(onVariant, names);
    const changed = names.filter((t) => varied[t] !== real[t]);
    // Every variant changes most tables (a subset of ≥ 70 % of the rows, then the recipe's own change).
    expect(changed.length).toBeGreaterThan(names.length / 2);
    expect(await orphans(db, onVariant)).toEqual((await orphans(db, onDb)).map(() => 0));
    expect(await duplicateKeys(db, onVariant)).toBe(0);
    // Generated SQL stays read-only on a variant too.
    const refused = await variants.execute(i, `DELETE FROM ${quoteIdent(names[0]!)}`).catch((e: unknown) => e);
    expect(isDatabaseError(refused)).toBe(true);
    // A name qualified with its schema reads the original table (documented: compared on the real data only).
    const [qualified] = await onVariant(
      `SELECT count(*)::text FROM ${quoteIdent(tables[0]!.schema)}.${quoteIdent(names[0]!)}`,
    );
    expect(String(qualified![0])).toBe(real[names[0]!]!.split(":")[0]);
  }
  // The user's database is exactly as before.
  expect(await fingerprint(onDb, names)).toEqual(real);
}

describe("databaseVariants on the demo database (PGlite)", () => {
  let db: SqlExecutor;
  let variants: DatabaseVariants;
  beforeAll(async () => {
    db = await openDatabase("demo");
    variants = await databaseVariants(db, { k: 3, seed: 1 });
  }, 120_000);
  afterAll(async () => {
    await db?.close();
  });

  test("K variants in a clone: keys and foreign keys hold, every variant differs, the database is untouched", async () => {
    expect(variants).toMatchObject({ k: 3, seed: 1, mechanism: "pglite-clone" });
    await checkVariants(db, variants);
    const schemas = await db.execute("SELECT count(*)::int FROM pg_namespace WHERE nspname LIKE 'glrl_suite%'");
    expect(schemas.rows).toEqual([[0]]);
  }, 120_000);

  test("the same call gives the same variants; a seed gives the same data on every build; another seed other data", async () => {
    expect(await databaseVariants(db, { k: 3, seed: 1 })).toBe(variants);
    const count = "SELECT count(*)::int, sum(hours)::text FROM timesheets";
    const first = (await variants.execute(1, count)).rows;
    await variants.close();
    const rebuilt = await databaseVariants(db, { k: 3, seed: 1 });
    expect(rebuilt).not.toBe(variants);
    expect((await rebuilt.execute(1, count)).rows).toEqual(first);
    const other = await databaseVariants(db, { k: 2, seed: 2 });
    expect((await other.execute(1, count)).rows).not.toEqual(first);
    variants = rebuilt;
  }, 120_000);

  test("bad sizes are input errors with a hint", () => {
    expect(() => databaseVariants(db, { k: 0 })).toThrow(/positive integer/);
    expect(() => databaseVariants({ ...db, dialect: "other" } as unknown as SqlExecutor)).toThrow(/cannot build/);
  });
});

const url = process.env.GLRL_TEST_PG_URL;
// Registered only with a server (no skipped tests without one).
if (url)
  describe("databaseVariants on PostgreSQL (GLRL_TEST_PG_URL): scratch schemas, dropped on close", () => {
    const name = `glrl_suite_test_${process.pid}_${randomBytes(2).toString("hex")}`;
    let server: PostgresExecutor;
    let db: PostgresExecutor;
    beforeAll(async () => {
      server = await createPostgresExecutor(url!);
      await server.admin(`CREATE DATABASE ${name}`);
      const dbUrl = new URL(url!);
      dbUrl.pathname = `/${name}`;
      db = await createPostgresExecutor(dbUrl.toString());
      await db.admin(await demoSchemaSql());
      await db.admin(seedDemoDatabase());
    }, 180_000);
    afterAll(async () => {
      await db?.close();
      await server?.admin(`DROP DATABASE IF EXISTS ${name}`).catch(() => undefined);
      await server?.close();
    });

    test("K variants as scratch schemas: the same checks as PGlite, the same data for the same seed, none left after close", async () => {
      const variants = await databaseVariants(db, { k: 3, seed: 1 });
      expect(variants.mechanism).toBe("postgres-scratch-schemas");
      await checkVariants(db, variants);
      // The procedure is a function of the seed and the rows: PostgreSQL's variant equals PGlite's.
      const demo = await openDatabase("demo");
      try {
        const onPglite = await databaseVariants(demo, { k: 3, seed: 1 });
        const probe =
          "SELECT count(*)::int, sum(hours)::text, sum(amount)::text FROM timesheets, (SELECT sum(amount) AS amount FROM invoices) i";
        for (let i = 0; i < 3; i++)
          expect((await variants.execute(i, probe)).rows).toEqual((await onPglite.execute(i, probe)).rows);
      } finally {
        await demo.close();
      }
      const scratch = "SELECT count(*)::int FROM pg_namespace WHERE nspname LIKE 'glrl\\_suite\\_%'";
      expect((await db.execute(scratch)).rows).toEqual([[3]]);
      await db.close(); // closes the variants first
      db = await createPostgresExecutor(Object.assign(new URL(url!), { pathname: `/${name}` }).toString());
      expect((await db.execute(scratch)).rows).toEqual([[0]]);
    }, 300_000);
  });
