/**
 * SQL toolkit throughput: `npx tsx bench/sql.ts [--pg postgres://…] [--repeat N]`. Prints a table; never
 * part of the tests.
 *
 * Rows, each one pass over a corpus, sequential, one core:
 * 1. parse (`parseSql`, every text new to its cache) on the 500 BIRD Mini-Dev gold queries and on the
 *    unique gold SQL of the demo dataset (data/dataset/*.jsonl);
 * 2. validate (`validateSql` with the schema; without a database, and with one attached so every query
 *    is also planned by EXPLAIN) on the demo dataset and on BIRD Mini-Dev (its 11 DDLs loaded into one
 *    PGlite, a schema each; per-database passes, merged: p50 = mean of the passes' p50, p99 = max);
 * 3. execute through the PGlite executor (demo database, the worker round trip included) and through
 *    the PostgreSQL executor when `--pg` or GLRL_TEST_PG_URL names a database holding the demo tables
 *    (`gl-rl db init --db postgres://…` creates them);
 * 4. opening the demo database: cold (empty cache: build + dump + write), warm from the disk cache,
 *    warm from this process's memory.
 * Latencies are per query, ms; q/s = queries / total seconds of the pass.
 */
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { birdMinidevFile } from "../data/birdMinidev.js";
import { parseSql } from "../sql/parseSql.js";
import { demoDatabaseDump, demoDumpPath, openDemoDatabase } from "../sql/demoDatabase.js";
import { createPgliteExecutor, READER_ROLE_SQL } from "../sql/pgliteExecutor.js";
import { createPostgresExecutor } from "../sql/postgresExecutor.js";
import { introspectSchema, schemaFromDdl, type SchemaModel } from "../sql/schemaModel.js";
import { validateSql } from "../sql/validateSql.js";
import type { SqlExecutor } from "../sql/sqlExecutor.js";

const { values } = parseArgs({ options: { pg: { type: "string" }, repeat: { type: "string" } } });
const repeat = Number(values.repeat ?? 1);
const pgUrl = values.pg ?? process.env.GLRL_TEST_PG_URL;
const ROOT = new URL("../", import.meta.url);

interface Row {
  what: string;
  corpus: string;
  n: number;
  ok: number;
  qps: number;
  p50: number;
  p99: number;
  note?: string;
}
const table: Row[] = [];

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function measure(
  what: string,
  corpus: string,
  items: string[],
  run: (sql: string) => Promise<boolean> | boolean,
  note?: string,
): Promise<void> {
  const times: number[] = [];
  let ok = 0;
  const t0 = performance.now();
  for (let r = 0; r < repeat; r++) {
    for (const sql of items) {
      const s = performance.now();
      if (await run(sql)) ok++;
      times.push(performance.now() - s);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  times.sort((a, b) => a - b);
  table.push({
    what,
    corpus,
    n: times.length,
    ok,
    qps: times.length / seconds,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    note,
  });
}

// ─── corpora ──────────────────────────────────────────────────────────────────────────────────────

const birdPath = birdMinidevFile("mini_dev_postgresql_gold.sql");
const birdGold = existsSync(birdPath)
  ? (await readFile(birdPath, "utf8"))
      .split("\n")
      .filter(Boolean)
      .map((l) => ({ sql: l.slice(0, l.lastIndexOf("\t")), db: l.slice(l.lastIndexOf("\t") + 1).trim() }))
  : [];
const bird = birdGold.map((g) => g.sql);
const datasetDir = new URL("data/dataset/", ROOT);
const demoSql: string[] = [];
if (existsSync(datasetDir)) {
  const seen = new Set<string>();
  for (const file of (await readdir(datasetDir)).filter((f) => f.endsWith(".jsonl")).sort()) {
    for (const line of (await readFile(new URL(file, datasetDir), "utf8")).split("\n")) {
      if (!line.trim()) continue;
      const sql = (JSON.parse(line) as { sql?: string }).sql;
      if (sql && !seen.has(sql)) {
        seen.add(sql);
        demoSql.push(sql);
      }
    }
  }
}

// ─── open times (a private cache dir, so "cold" is really cold) ───────────────────────────────────

const cacheRoot = await mkdtemp(join(tmpdir(), "gl-rl-bench-cache-"));
process.env.GL_RL_CACHE_DIR = join(cacheRoot, "cold");
const opens: { what: string; ms: number }[] = [];
let t = performance.now();
let demo = await openDemoDatabase();
opens.push({ what: "open demo, cold (build seed + dump + cache write)", ms: performance.now() - t });
await demo.close();
const coldPath = await demoDumpPath();
process.env.GL_RL_CACHE_DIR = join(cacheRoot, "warm");
await mkdir(process.env.GL_RL_CACHE_DIR, { recursive: true });
await copyFile(coldPath, await demoDumpPath());
t = performance.now();
demo = await openDemoDatabase();
opens.push({ what: "open demo, warm (dump from the disk cache)", ms: performance.now() - t });
await demo.close();
t = performance.now();
demo = await openDemoDatabase();
opens.push({ what: "open demo, warm (dump already in memory)", ms: performance.now() - t });
opens.push({ what: `demo dump size, MB`, ms: (await demoDatabaseDump()).byteLength / 1e6 });

// ─── parse / validate ─────────────────────────────────────────────────────────────────────────────

// parseSql caches by exact text: a suffix makes every pass a cache miss.
let pass = 0;
const fresh = (sql: string): string => `${sql}\n-- ${pass}`;
if (bird.length) {
  await measure("parse (pgsql-ast-parser)", "BIRD Mini-Dev gold", bird, (sql) => parseSql(fresh(sql)).error === null);
  pass++;
} else
  table.push({
    what: "parse",
    corpus: "BIRD Mini-Dev gold",
    n: 0,
    ok: 0,
    qps: NaN,
    p50: NaN,
    p99: NaN,
    note: "skipped: data/bird-minidev missing",
  });
if (demoSql.length) {
  await measure("parse (pgsql-ast-parser)", "demo dataset gold", demoSql, (sql) => parseSql(fresh(sql)).error === null);
  pass++;
} else
  table.push({
    what: "parse",
    corpus: "demo dataset gold",
    n: 0,
    ok: 0,
    qps: NaN,
    p50: NaN,
    p99: NaN,
    note: "skipped: data/dataset/*.jsonl missing",
  });

// validate: with the schema, with and without a database attached (EXPLAIN through the executor).
const demoSchema = await introspectSchema(demo);
const validOn =
  (schema: SchemaModel, executor?: SqlExecutor) =>
  async (sql: string): Promise<boolean> =>
    (await validateSql(fresh(sql), executor ? { schema, executor } : { schema })).valid;
if (demoSql.length) {
  await measure("validate (schema, no db)", "demo dataset gold", demoSql, validOn(demoSchema));
  pass++;
  await measure("validate (schema + PGlite EXPLAIN)", "demo dataset gold", demoSql, validOn(demoSchema, demo));
  pass++;
}
if (birdGold.length) {
  // The 11 BIRD databases in one PGlite, a schema each; search_path selects the query's database.
  const birdDb = await createPgliteExecutor({ description: "bird" });
  const schemas = new Map<string, SchemaModel>();
  const ddlDir = pathToFileURL(`${birdMinidevFile("pg_schemas")}/`);
  for (const file of (await readdir(ddlDir)).filter((f) => f.endsWith(".sql")).sort()) {
    const name = file.replace(/\.sql$/, "");
    const ddl = await readFile(new URL(file, ddlDir), "utf8");
    schemas.set(name, schemaFromDdl(ddl));
    await birdDb.admin(`CREATE SCHEMA ${name}; SET search_path TO ${name}; ${ddl}`);
  }
  await birdDb.admin(READER_ROLE_SQL);
  const byDb = [...new Set(birdGold.map((g) => g.db))];
  const schemaOf = new Map(birdGold.map((g) => [g.sql, schemas.get(g.db)!] as const));
  await measure(
    "validate (schema, no db)",
    "BIRD Mini-Dev gold",
    birdGold.map((g) => g.sql),
    async (sql) => (await validateSql(fresh(sql), { schema: schemaOf.get(sql)! })).valid,
  );
  pass++;
  // With the database: one pass per BIRD database (search_path switched between passes, untimed).
  const rows: Row[] = [];
  for (const db of byDb) {
    await birdDb.admin(`SET search_path TO ${db}`);
    await birdDb.execute("SELECT 1");
    await measure(
      "validate (schema + PGlite EXPLAIN)",
      db,
      birdGold.filter((g) => g.db === db).map((g) => g.sql),
      validOn(schemas.get(db)!, birdDb),
    );
    rows.push(table.pop()!);
  }
  pass++;
  const n = rows.reduce((a, r) => a + r.n, 0);
  const seconds = rows.reduce((a, r) => a + r.n / r.qps, 0);
  const weighted = (key: "p50" | "p99"): number => rows.reduce((a, r) => a + r[key] * r.n, 0) / n;
  table.push({
    what: "validate (schema + PGlite EXPLAIN)",
    corpus: "BIRD Mini-Dev gold",
    n,
    ok: rows.reduce((a, r) => a + r.ok, 0),
    qps: n / seconds,
    p50: weighted("p50"),
    p99: Math.max(...rows.map((r) => r.p99)),
    note: "p50: mean of per-database p50",
  });
  await birdDb.close();
}

// ─── execute ──────────────────────────────────────────────────────────────────────────────────────

const runOn =
  (db: SqlExecutor) =>
  async (sql: string): Promise<boolean> => {
    try {
      await db.execute(sql);
      return true;
    } catch {
      return false;
    }
  };
if (demoSql.length) {
  await runOn(demo)("SELECT 1");
  await measure("execute (PGlite worker, sandboxed)", "demo dataset gold", demoSql, runOn(demo));
}
await measure(
  "execute (PGlite worker, sandboxed)",
  "PK lookup employees",
  Array.from({ length: 500 }, (_, i) => `SELECT * FROM employees WHERE employee_id = ${(i % 240) + 1}`),
  runOn(demo),
);
await demo.close();

if (pgUrl) {
  try {
    const pg = await createPostgresExecutor(pgUrl);
    const has = await pg.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'journal_lines'");
    if (Number(has.rows[0]![0]) === 0) {
      table.push({
        what: "execute (PostgreSQL)",
        corpus: "demo dataset gold",
        n: 0,
        ok: 0,
        qps: NaN,
        p50: NaN,
        p99: NaN,
        note: `skipped: no demo tables in ${pg.description} (gl-rl db init --db <url>)`,
      });
    } else {
      if (demoSql.length)
        await measure("execute (PostgreSQL 15, pg, sandboxed)", "demo dataset gold", demoSql, runOn(pg));
      await measure(
        "execute (PostgreSQL 15, pg, sandboxed)",
        "PK lookup employees",
        Array.from({ length: 500 }, (_, i) => `SELECT * FROM employees WHERE employee_id = ${(i % 240) + 1}`),
        runOn(pg),
      );
    }
    await pg.close();
  } catch (error) {
    table.push({
      what: "execute (PostgreSQL)",
      corpus: "-",
      n: 0,
      ok: 0,
      qps: NaN,
      p50: NaN,
      p99: NaN,
      note: `skipped: ${(error as Error).message}`,
    });
  }
} else {
  table.push({
    what: "execute (PostgreSQL)",
    corpus: "-",
    n: 0,
    ok: 0,
    qps: NaN,
    p50: NaN,
    p99: NaN,
    note: "skipped: no --pg url / GLRL_TEST_PG_URL",
  });
}
await rm(cacheRoot, { recursive: true, force: true });

// ─── report ───────────────────────────────────────────────────────────────────────────────────────

const fmt = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : "-");
const header = ["what", "corpus", "queries", "ok", "q/s", "p50 ms", "p99 ms"];
const lines = table.map((r) =>
  r.note && r.n === 0
    ? [r.what, r.corpus, "-", "-", "-", "-", r.note]
    : [r.what, r.corpus, String(r.n), String(r.ok), fmt(r.qps, 0), fmt(r.p50, 2), fmt(r.p99, 2)],
);
const widths = header.map((h, j) => Math.max(h.length, ...lines.map((l) => l[j]!.length)));
const row = (cells: string[]): string => `| ${cells.map((c, j) => c.padEnd(widths[j]!)).join(" | ")} |`;
console.log(row(header));
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const l of lines) console.log(row(l));
console.log();
for (const o of opens)
  console.log(`${o.what.padEnd(52)} ${o.what.includes("MB") ? o.ms.toFixed(1) : `${o.ms.toFixed(0)} ms`}`);
