/**
 * `gl-rl db init --db pglite:<dir> [--json]` — creates the demo database (data/schema.sql, the
 * deterministic seed, the SELECT-only reader role) in a persistent PGlite data directory.
 * Also `--db postgres://…` (schema + seed into an empty database on a server).
 *
 * Exit codes: 0 created; 2 unusable input (no/unsupported --db, an already initialised directory, an
 * unreachable server); 1 the seed failed.
 */
import { readdir } from "node:fs/promises";
import { DEMO_TABLES, SEED_VERSION } from "../../data/seedDemoDatabase.js";
import { InputError, isDatabaseError } from "../../errors.js";
import { demoDatabaseSql, seedInto } from "../../sql/demoDatabase.js";
import { isInitialisedDataDir, parseDatabaseSpec } from "../../sql/openDatabase.js";
import { createPgliteExecutor } from "../../sql/pgliteExecutor.js";
import { createPostgresExecutor } from "../../sql/postgresExecutor.js";
import type { SqlExecutor } from "../../sql/sqlExecutor.js";
import { parseCommandArgs } from "../parseCommandArgs.js";

async function countRows(db: SqlExecutor): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of DEMO_TABLES)
    counts[table] = Number((await db.execute(`SELECT count(*) FROM ${table}`)).rows[0]![0]);
  return counts;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { db: { type: "string" }, json: { type: "boolean" } },
    "gl-rl db init",
  );
  if (positionals.length > 0)
    throw new InputError(`gl-rl db init takes no positional arguments, got '${positionals.join(" ")}'`, {
      hint: "gl-rl db init --db pglite:./gl-db",
    });
  const spec = values.db as string | undefined;
  if (spec === undefined)
    throw new InputError("gl-rl db init needs --db", { hint: "gl-rl db init --db pglite:./gl-db" });
  const target = parseDatabaseSpec(spec);
  const started = performance.now();
  let db: SqlExecutor;
  let description: string;
  if (target.kind === "demo") {
    throw new InputError("the demo database is built and cached automatically; db init needs a place to write", {
      hint: "gl-rl db init --db pglite:./gl-db",
    });
  } else if (target.kind === "pglite") {
    if (isInitialisedDataDir(target.dataDir)) {
      throw new InputError(`pglite:${target.dataDir} is already initialised`, {
        hint: "use it as it is, or delete the directory and run db init again",
      });
    }
    const entries = await readdir(target.dataDir).catch(() => [] as string[]);
    if (entries.length > 0)
      throw new InputError(`${target.dataDir} exists and is not empty`, { hint: "pass a new or empty directory" });
    const pglite = await createPgliteExecutor({ dataDir: target.dataDir }).catch((error: unknown) => {
      throw new InputError(`cannot create pglite:${target.dataDir}: ${(error as Error).message}`, {
        hint: "check that the directory is writable",
        cause: error,
      });
    });
    db = pglite;
    description = `pglite:${target.dataDir}`;
    try {
      await seedInto(pglite);
    } catch (error) {
      await pglite.close();
      throw error;
    }
  } else {
    const server = await createPostgresExecutor(target.url).catch((error: unknown) => {
      throw new InputError((error as Error).message, {
        hint: isDatabaseError(error) ? error.hint : undefined,
        cause: error,
      });
    });
    db = server;
    description = server.description;
    try {
      const existing = await server.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'journal_lines'",
      );
      if (Number(existing.rows[0]![0]) > 0)
        throw new InputError(`${description} already has the demo tables`, {
          hint: "use it as it is, or init an empty database",
        });
      const [schema, seed] = await demoDatabaseSql();
      await server.admin(`BEGIN;\n${schema}\n${seed}\nCOMMIT;`);
    } catch (error) {
      await server.close();
      throw error;
    }
  }
  try {
    const rows = await countRows(db);
    const elapsedMs = Math.round(performance.now() - started);
    const total = Object.values(rows).reduce((a, b) => a + b, 0);
    if (values.json)
      process.stdout.write(
        `${JSON.stringify({ db: description, seedVersion: SEED_VERSION, tables: rows, elapsedMs })}\n`,
      );
    else
      process.stdout.write(
        `initialised ${description}: ${DEMO_TABLES.length} tables, ${total} rows (seed ${SEED_VERSION}) in ${(elapsedMs / 1000).toFixed(1)} s\n`,
      );
    return 0;
  } finally {
    await db.close();
  }
}
