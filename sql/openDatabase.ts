/**
 * Opens a database from the `--db` spec every command takes.
 *
 * - `demo` (the default; also `undefined`/empty): the seeded demo database, in memory, from the cached
 *   dump (sql/demoDatabase.ts).
 * - `pglite:<dir>`: a persistent PGlite data directory. It must already be initialised (it holds
 *   `PG_VERSION`), else a `DatabaseError` with the hint `gl-rl db init --db pglite:<dir>`.
 * - `postgres://…` / `postgresql://…`: a PostgreSQL server through `pg` (connects once first; an
 *   unreachable server is a `DatabaseError` with a hint).
 * - Anything else: `InputError` with a hint listing the three forms.
 *
 * @example
 * const db = await openDatabase("demo");
 * const { rows } = await db.execute("SELECT name FROM companies ORDER BY company_id");
 * await db.close();
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { DatabaseError, InputError } from "../errors.js";
import { openDemoDatabase } from "./demoDatabase.js";
import { createPgliteExecutor } from "./pgliteExecutor.js";
import { createPostgresExecutor } from "./postgresExecutor.js";
import type { SqlExecutor } from "./sqlExecutor.js";

export interface OpenDatabaseOptions {
  /** Default time limit of `execute`, ms. Default 5000. */
  timeoutMs?: number;
  /** Default row cap of `execute`. Default 1000. */
  maxRows?: number;
  /** Default size cap of a result, bytes. Default 16 MB (sql/sqlExecutor.ts DEFAULT_MAX_RESULT_BYTES). */
  maxResultBytes?: number;
}

/** What a `--db` spec names, without opening it. */
export type DatabaseSpec = { kind: "demo" } | { kind: "pglite"; dataDir: string } | { kind: "postgres"; url: string };

export const DATABASE_SPEC_HINT = "use --db demo, --db pglite:<dir> or --db postgres://user:password@host:5432/db";

/** Parses a `--db` spec; throws `InputError` for anything else. */
export function parseDatabaseSpec(spec: string | undefined): DatabaseSpec {
  const s = (spec ?? "").trim();
  if (s === "" || s === "demo") return { kind: "demo" };
  if (s.startsWith("pglite:")) {
    const dir = s.slice("pglite:".length);
    if (dir === "")
      throw new InputError("--db pglite: needs a directory, e.g. pglite:./gl-db", { hint: DATABASE_SPEC_HINT });
    return { kind: "pglite", dataDir: resolve(dir) };
  }
  if (s.startsWith("postgres://") || s.startsWith("postgresql://")) return { kind: "postgres", url: s };
  throw new InputError(`unknown database '${s}'`, { hint: DATABASE_SPEC_HINT, context: { spec: s } });
}

/** True when `dataDir` holds an initialised PostgreSQL/PGlite data directory. */
export function isInitialisedDataDir(dataDir: string): boolean {
  return existsSync(join(dataDir, "PG_VERSION"));
}

/** Opens the database a `--db` spec names (see the file comment). */
export async function openDatabase(
  spec: string | undefined = "demo",
  options: OpenDatabaseOptions = {},
): Promise<SqlExecutor> {
  const parsed = parseDatabaseSpec(spec);
  switch (parsed.kind) {
    case "demo":
      return openDemoDatabase(options);
    case "pglite":
      if (!isInitialisedDataDir(parsed.dataDir)) {
        throw new DatabaseError("db_not_initialised", `pglite:${parsed.dataDir} is not an initialised database`, {
          hint: `create it with 'gl-rl db init --db pglite:${parsed.dataDir}'`,
          context: { dataDir: parsed.dataDir },
        });
      }
      return createPgliteExecutor({ ...options, dataDir: parsed.dataDir });
    case "postgres":
      return createPostgresExecutor(parsed.url, options);
  }
}
