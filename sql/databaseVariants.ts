/**
 * K seeded variants of a database for test-suite execution match (docs/execution-match.md "Test suite"): the
 * tables copied into K scratch schemas and varied by sql/variantProcedure.ts; a variant is queried with
 * `searchPath: "<its schema>, <the database's search path>"` (ExecuteOptions), read-only and sandboxed like any
 * query. The user's data is never written:
 *
 *   PGlite     the schemas live in a CLONE: `dump()` of the database (a read) loaded into a fresh in-memory
 *              PGlite (one worker, ~0.5 GB), never written back. One clone for all K (not K clones: K
 *              workers cost K × 0.5 GB and K loads; queries on one clone are serialised, which the 2-core
 *              trainer does anyway).
 *   PostgreSQL the schemas (`glrl_suite_<pid>_<random>_<i>`, UNLOGGED tables) are created in the same
 *              database through the trusted admin path and dropped by `close()`. The user's tables are only
 *              read (a copy per variant); the role needs CREATE on the database. Why not a rolled-back
 *              transaction per query: every query would re-apply the variant under row locks on the user's
 *              tables, and the executor's guard runs generated SQL only in READ ONLY transactions; why not a
 *              second database: copying between databases needs an extension (dblink, postgres_fdw).
 * A name the query qualifies with its schema (`public.projects`) reads the original table on every variant:
 * such a query is compared on the real data only.
 *
 * Built once per database, seed and K (cached), and closed with the database: its `close()` closes the
 * variants first. Build cost (demo database, K = 3): docs/execution-match.md "Test suite".
 *
 * @example
 * const db = await openDatabase("demo");
 * const variants = await databaseVariants(db, { k: 3, seed: 1 });
 * await variants.execute(0, "SELECT count(*) FROM projects"); // another count than on db
 */
import { randomBytes } from "node:crypto";
import { DatabaseError, InputError } from "../errors.js";
import { createPgliteExecutor, READER_ROLE_SQL, type PgliteExecutor } from "./pgliteExecutor.js";
import type { ExecuteOptions, QueryResult, SqlExecutor } from "./sqlExecutor.js";
import { quoteIdent, variantSql, type VariantTable } from "./variantProcedure.js";

/** K of the test suite when nobody says: 3 (Zhong et al. distil theirs from many; 3 is a fixed cost per query). */
export const DEFAULT_SUITE_SIZE = 3;
/** The seed when nobody says. */
export const DEFAULT_SUITE_SEED = 1;
/** Rows (the catalog's estimate) past which a PostgreSQL database is not copied K times. */
export const SUITE_MAX_SOURCE_ROWS = 2_000_000;

export interface DatabaseVariants {
  readonly k: number;
  readonly seed: number;
  /** How the variants are kept apart from the user's data (see the file comment). */
  readonly mechanism: "pglite-clone" | "postgres-scratch-schemas";
  /** Wall time of the build, ms. */
  readonly buildMs: number;
  /** The source database's description (for messages). */
  readonly description: string;
  /** Runs one untrusted statement on variant `i` (0-based), sandboxed as `SqlExecutor.execute`. */
  execute(i: number, sql: string, options?: ExecuteOptions): Promise<QueryResult>;
  close(): Promise<void>;
}

type VariantSource = Pick<SqlExecutor, "execute" | "close" | "description" | "dialect"> & {
  dump?: PgliteExecutor["dump"];
  admin?: (sql: string) => Promise<void>;
};

/** Whether `executor` can build variants: a PGlite executor (it dumps) or a PostgreSQL one (admin path). */
export function canBuildVariants(executor: unknown): executor is VariantSource {
  const e = executor as Partial<VariantSource> | null;
  if (typeof e !== "object" || e === null || typeof e.execute !== "function" || typeof e.close !== "function")
    return false;
  return (
    (e.dialect === "pglite" && typeof e.dump === "function") ||
    (e.dialect === "postgres" && typeof e.admin === "function")
  );
}

const TABLES_SQL = `
SELECT n.nspname AS schema, c.relname AS name,
  (SELECT json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
      'category', ty.typcategory, 'notNull', a.attnotnull, 'generated', a.attgenerated <> '',
      'identity', a.attidentity <> '') ORDER BY a.attnum)
     FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
  (SELECT coalesce(json_agg(json_build_object('type', k.contype,
      'columns', (SELECT json_agg(a.attname ORDER BY x.o) FROM unnest(k.conkey) WITH ORDINALITY x(n, o)
                   JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = x.n),
      'refSchema', rn.nspname, 'refTable', rc.relname,
      'refColumns', (SELECT json_agg(a.attname ORDER BY x.o) FROM unnest(k.confkey) WITH ORDINALITY x(n, o)
                   JOIN pg_catalog.pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = x.n)) ORDER BY k.conname), '[]')
     FROM pg_catalog.pg_constraint k
     LEFT JOIN pg_catalog.pg_class rc ON rc.oid = k.confrelid
     LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
    WHERE k.conrelid = c.oid AND k.contype IN ('p', 'u', 'f')) AS constraints,
  greatest(c.reltuples, 0)::float8 AS estimate
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname = ANY (current_schemas(false)) AND n.nspname NOT LIKE 'glrl\\_suite%'
ORDER BY array_position(current_schemas(false), n.nspname), c.relname`;

/**
 * The tables a variant copies: those in the schemas of the search path (where an unqualified name resolves),
 * the first of a name only, with columns and keys from the catalog.
 */
export async function readVariantTables(
  executor: Pick<SqlExecutor, "execute">,
): Promise<{ tables: VariantTable[]; searchPath: string[]; estimatedRows: number }> {
  const [result, path] = await Promise.all([
    executor.execute(TABLES_SQL, { maxRows: 100_000, timeoutMs: 30_000 }),
    executor.execute("SELECT array_to_string(current_schemas(false), ',')", { timeoutMs: 30_000 }),
  ]);
  const seen = new Set<string>();
  const tables: VariantTable[] = [];
  let estimatedRows = 0;
  for (const [schema, name, columns, constraints, estimate] of result.rows) {
    if (seen.has(name as string)) continue; // shadowed by an earlier schema of the search path
    seen.add(name as string);
    const parse = (v: unknown) => (typeof v === "string" ? JSON.parse(v) : v);
    tables.push({
      schema: schema as string,
      name: name as string,
      columns: parse(columns) ?? [],
      constraints: parse(constraints) ?? [],
    });
    estimatedRows += Number(estimate);
  }
  const searchPath = String(path.rows[0]?.[0] ?? "")
    .split(",")
    .filter((s) => s !== "");
  return { tables, searchPath, estimatedRows };
}

const built = new WeakMap<object, Map<string, Promise<DatabaseVariants>>>();

/**
 * The K variants of `source` for `seed`: built on the first call, the same promise afterwards; closed when
 * `source.close()` is called (or by their own `close()`).
 */
export function databaseVariants(
  source: SqlExecutor,
  options: { k?: number; seed?: number } = {},
): Promise<DatabaseVariants> {
  const k = options.k ?? DEFAULT_SUITE_SIZE;
  const seed = options.seed ?? DEFAULT_SUITE_SEED;
  if (!Number.isInteger(k) || k < 1)
    throw new InputError(`test suite size must be a positive integer, got ${k}`, {
      hint: "pass --suite 3 (or 0 for none)",
    });
  if (!canBuildVariants(source))
    throw new InputError(
      `cannot build test-suite variants of ${source.description}: not a PGlite or PostgreSQL executor`,
      {
        hint: "open the database with openDatabase(), or pass suite 0",
      },
    );
  let perSource = built.get(source);
  if (!perSource) {
    perSource = new Map();
    built.set(source, perSource);
    const closeSource = source.close.bind(source);
    const variantsOf = perSource;
    // The variants belong to the database they were built from: closing it closes them first.
    (source as { close: () => Promise<void> }).close = async () => {
      const all = [...variantsOf.values()];
      variantsOf.clear();
      await Promise.all(all.map((p) => p.then((v) => v.close()).catch(() => undefined)));
      await closeSource();
    };
  }
  const key = `${k}:${seed}`;
  let entry = perSource.get(key);
  if (!entry) {
    const map = perSource;
    // Closed variants leave the cache: the next call builds them again.
    entry = build(source, k, seed).then((v) => ({
      ...v,
      close: () => {
        if (map.get(key) === entry) map.delete(key);
        return v.close();
      },
    }));
    perSource.set(key, entry);
    entry.catch(() => map.delete(key));
  }
  return entry;
}

async function build(source: VariantSource, k: number, seed: number): Promise<DatabaseVariants> {
  const started = performance.now();
  const { tables, searchPath, estimatedRows } = await readVariantTables(source);
  if (tables.length === 0)
    throw new InputError(`${source.description} has no tables on its search path to vary`, {
      hint: "point --db at a database with tables, or pass suite 0",
    });
  const pathOf = (schema: string) => [schema, ...searchPath].map(quoteIdent).join(", ");
  if (source.dialect === "pglite") {
    const clone = await createPgliteExecutor({
      dump: await source.dump!("none"),
      description: `${source.description} (test suite)`,
    });
    try {
      const schemas = Array.from({ length: k }, (_, i) => `glrl_suite_${i + 1}`);
      for (const [i, schema] of schemas.entries()) await clone.admin(variantSql(tables, { index: i, seed, schema }));
      await clone.admin(READER_ROLE_SQL);
      await clone.dump("none"); // a worker restarted after a timeout loads the variants, not the original
      return variantsOn(clone, schemas.map(pathOf), {
        k,
        seed,
        mechanism: "pglite-clone",
        started,
        source,
        drop: () => clone.close(),
      });
    } catch (error) {
      await clone.close();
      throw error;
    }
  }
  if (estimatedRows > SUITE_MAX_SOURCE_ROWS)
    throw new DatabaseError(
      "suite_too_large",
      `${source.description} holds about ${Math.round(estimatedRows)} rows: too many to copy ${k} times for the test suite`,
      {
        hint: `pass suite 0 (--suite 0), or use a smaller copy of the database (limit ${SUITE_MAX_SOURCE_ROWS} rows)`,
      },
    );
  const tag = `glrl_suite_${process.pid}_${randomBytes(3).toString("hex")}`;
  const schemas = Array.from({ length: k }, (_, i) => `${tag}_${i + 1}`);
  const drop = async () => {
    for (const schema of schemas)
      await source.admin!(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`).catch(() => undefined);
  };
  try {
    for (const [i, schema] of schemas.entries()) await source.admin!(variantSql(tables, { index: i, seed, schema }));
  } catch (error) {
    await drop();
    throw new DatabaseError(
      "suite_build_failed",
      `could not build the test-suite variants in ${source.description}: ${(error as Error).message}`,
      {
        hint: "the role needs CREATE on the database (GRANT CREATE ON DATABASE … TO …), or pass suite 0 (--suite 0)",
        cause: error,
      },
    );
  }
  return variantsOn(source, schemas.map(pathOf), {
    k,
    seed,
    mechanism: "postgres-scratch-schemas",
    started,
    source,
    drop,
  });
}

function variantsOn(
  runner: Pick<SqlExecutor, "execute">,
  searchPaths: string[],
  meta: {
    k: number;
    seed: number;
    mechanism: DatabaseVariants["mechanism"];
    started: number;
    source: VariantSource;
    drop: () => Promise<void>;
  },
): DatabaseVariants {
  let closed: Promise<void> | undefined;
  return {
    k: meta.k,
    seed: meta.seed,
    mechanism: meta.mechanism,
    buildMs: performance.now() - meta.started,
    description: meta.source.description,
    execute(i, sql, options = {}) {
      const searchPath = searchPaths[i];
      if (searchPath === undefined) throw new RangeError(`variant ${i} of ${meta.k} does not exist`);
      return runner.execute(sql, { ...options, searchPath });
    },
    close() {
      closed ??= meta.drop();
      return closed;
    },
  };
}
