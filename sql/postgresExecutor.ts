/**
 * The PostgreSQL executor: a real server through `pg`.
 *
 * Algorithm of `execute(sql)` on one pooled connection:
 * 1. `BEGIN READ ONLY`; `SET LOCAL statement_timeout = <timeoutMs>` (the server enforces the limit and
 *    answers SQLSTATE 57014, turned into a `TimeoutError`). Only one untrusted statement runs per
 *    transaction, so even one that switches the transaction back to read-write has nothing left to run.
 * 2. The statement through the extended protocol (`queryMode: "extended"`): exactly one statement —
 *    pg's simple protocol would run `SELECT 1; COMMIT; DELETE …`.
 * 3. `ROLLBACK`, whatever happened. Rows past `maxRows` (default 1000) are dropped, `truncated` set;
 *    column types are PostgreSQL type names from pg_type (cached per executor); `date` values stay
 *    'YYYY-MM-DD' strings (as in the PGlite executor), other types as pg parses them.
 * 4. An aborted `signal` cancels the statement with `pg_cancel_backend(pid)` from another connection.
 *    A client-side timer at timeoutMs + 2000 ms destroys the connection if the server never answers.
 *
 * `createPostgresExecutor` connects once before returning, so an unreachable server fails fast
 * (connection timeout 3 s; a refused port fails at once) with a `DatabaseError` and a hint.
 *
 * @example
 * const pg = await createPostgresExecutor("postgres://postgres:postgres@127.0.0.1:5432/postgres");
 * const { rows } = await pg.execute("SELECT 1 AS one"); // [[1]]
 * await pg.close();
 */
import pg from "pg";
import { AbortError, DatabaseError, TimeoutError } from "../errors.js";
import type { ExecuteOptions, QueryResult, SqlExecutor } from "./sqlExecutor.js";
import { DEFAULT_MAX_ROWS, DEFAULT_TIMEOUT_MS } from "./pgliteExecutor.js";

// `date` stays 'YYYY-MM-DD' text (pg would make a Date at local midnight, which a time zone can shift),
// as with the PGlite executor.
const DATE_OID = 1082;
const TYPES = {
  getTypeParser: (oid: number, format?: string): ((value: string) => unknown) =>
    oid === DATE_OID
      ? (value: string) => value
      : (pg.types.getTypeParser as (oid: number, format?: string) => (value: string) => unknown)(oid, format),
};

export interface PostgresExecutorOptions {
  /** Default time limit of `execute`, ms. Default 5000. */
  timeoutMs?: number;
  /** Default row cap. Default 1000. */
  maxRows?: number;
  /** Pool size. Default 4. */
  maxConnections?: number;
  /** Connection timeout, ms. Default 3000. */
  connectTimeoutMs?: number;
}

/** `SqlExecutor` plus the trusted admin path (simple protocol, writes allowed — never generated SQL). */
export interface PostgresExecutor extends SqlExecutor {
  readonly dialect: "postgres";
  admin(sql: string): Promise<void>;
}

/** `postgres://user@host:port/db` — the URL without its password. */
export function describePostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = "";
    return parsed.toString().replace(/:@/, "@");
  } catch {
    return "postgres://(unparseable url)";
  }
}

interface PgError extends Error {
  code?: string;
  hint?: string;
  detail?: string;
  position?: string;
}

function unreachable(description: string, error: unknown): DatabaseError {
  const message = error instanceof Error ? error.message || (error as PgError).code || String(error) : String(error);
  return new DatabaseError("db_unreachable", `could not connect to ${description}: ${message}`, {
    hint: "check the URL, the password and that the server is running (pg_lsclusters; pg_ctlcluster 15 main start)",
    context: { description },
    cause: error,
  });
}

/** Connects a pool to `url` and checks it with one round trip. */
export async function createPostgresExecutor(
  url: string,
  options: PostgresExecutorOptions = {},
): Promise<PostgresExecutor> {
  const description = describePostgresUrl(url);
  const defaultTimeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const defaultMaxRows = options.maxRows ?? DEFAULT_MAX_ROWS;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 4,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
    idleTimeoutMillis: 10_000,
  });
  // An idle client's socket error must not crash the process; the next query reports it.
  pool.on("error", () => undefined);
  const typeNames = new Map<number, string>();
  try {
    const types = await pool.query<{ oid: number; typname: string }>(
      "SELECT oid::int AS oid, typname FROM pg_catalog.pg_type",
    );
    for (const row of types.rows) typeNames.set(row.oid, row.typname);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw unreachable(description, error);
  }
  let closed = false;

  const typeName = async (client: pg.PoolClient, oid: number): Promise<string> => {
    if (!typeNames.has(oid)) {
      const result = await client.query<{ typname: string }>("SELECT typname FROM pg_catalog.pg_type WHERE oid = $1", [
        oid,
      ]);
      typeNames.set(oid, result.rows[0]?.typname ?? String(oid));
    }
    return typeNames.get(oid)!;
  };

  const executor: PostgresExecutor = {
    dialect: "postgres",
    description,
    async execute(sql: string, executeOptions: ExecuteOptions = {}): Promise<QueryResult> {
      if (closed) throw new DatabaseError("db_closed", `${description} is closed`, { hint: "open the database again" });
      const timeoutMs = executeOptions.timeoutMs ?? defaultTimeoutMs;
      const maxRows = executeOptions.maxRows ?? defaultMaxRows;
      const signal = executeOptions.signal;
      if (signal?.aborted) throw new AbortError(`the query on ${description} was aborted before it started`);
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw unreachable(description, error);
      }
      const pid = (client as unknown as { processID?: number }).processID;
      let aborted = false;
      let destroyed = false;
      const onAbort = (): void => {
        aborted = true;
        if (pid !== undefined) void pool.query("SELECT pg_cancel_backend($1)", [pid]).catch(() => undefined);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const guard = setTimeout(() => {
        destroyed = true;
        client.release(new Error("the server did not answer within the time limit"));
      }, timeoutMs + 2000);
      try {
        await client.query("BEGIN READ ONLY");
        await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(timeoutMs))}`);
        const started = performance.now();
        const result = await client.query({
          text: sql,
          values: executeOptions.params ?? [],
          rowMode: "array",
          queryMode: "extended",
          types: TYPES,
        } as pg.QueryArrayConfig);
        const elapsedMs = performance.now() - started;
        const columns = [];
        for (const field of result.fields ?? [])
          columns.push({ name: field.name, type: await typeName(client, field.dataTypeID) });
        const all = (result.rows ?? []) as unknown[][];
        const rows = all.length > maxRows ? all.slice(0, maxRows) : all;
        return { columns, rows, rowCount: rows.length, truncated: all.length > maxRows, elapsedMs };
      } catch (error) {
        const e = error as PgError;
        if (aborted)
          throw new AbortError(`the query on ${description} was aborted`, { context: { sql }, cause: error });
        if (e.code === "57014" || destroyed) {
          throw new TimeoutError(`the query ran past its ${timeoutMs} ms limit on ${description} and was stopped`, {
            hint: "add filters or a LIMIT, or raise timeoutMs",
            context: { sql, timeoutMs },
            cause: error,
          });
        }
        const readOnly = e.code === "25006";
        const state = e.code ? ` (SQLSTATE ${e.code})` : "";
        throw new DatabaseError(
          readOnly ? "read_only_violation" : "query_failed",
          `${description}: ${e.message}${state}`,
          {
            hint: e.hint ?? (readOnly ? "generated SQL may only read: use SELECT" : "check the SQL against the schema"),
            context: { sql, sqlstate: e.code, detail: e.detail, position: e.position },
            cause: error,
          },
        );
      } finally {
        clearTimeout(guard);
        signal?.removeEventListener("abort", onAbort);
        if (!destroyed) {
          try {
            await client.query("ROLLBACK");
            client.release();
          } catch (error) {
            client.release(error as Error);
          }
        }
      }
    },
    async admin(sql: string): Promise<void> {
      try {
        await pool.query(sql);
      } catch (error) {
        const e = error as PgError;
        throw new DatabaseError("admin_failed", `${description}: ${e.message}`, {
          hint: e.hint ?? "check the admin SQL",
          cause: error,
        });
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
  return executor;
}
