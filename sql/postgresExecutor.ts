/**
 * The PostgreSQL executor: a real server through `pg`.
 *
 * Algorithm of `execute(sql)` on one pooled connection:
 * 1. `BEGIN READ ONLY`; `SET LOCAL statement_timeout = <timeoutMs>` (the server enforces the limit and
 *    answers SQLSTATE 57014, turned into a `TimeoutError`). Only one untrusted statement runs per
 *    transaction, so even one that switches the transaction back to read-write has nothing left to run.
 * 2. The statement through the extended protocol (`queryMode: "extended"`): exactly one statement —
 *    pg's simple protocol would run `SELECT 1; COMMIT; DELETE …`.
 * 3. A query (sql/sqlExecutor.ts CURSOR_QUERY_START) runs as DECLARE … CURSOR FOR and its rows come in
 *    FETCH batches (16, doubling up to 4096, and no more rows than the room left holds at the mean row size
 *    so far; `statement_timeout` re-set to the time left before each later batch): at most maxRows + 1 (default 1000) rows are fetched, and the size of every row is read off the
 *    wire before it arrives (sql/dataRowGuard.ts): the first row that would take the result past
 *    `maxResultBytes` (default 16 MB) ends it — the connection is closed at that row's header, so the client
 *    never holds more than the limit. Either cut sets `truncated` and a `warning`. Other statements
 *    (EXPLAIN, SHOW) run plainly under the same guard. A data-modifying WITH cannot be a cursor (SQLSTATE
 *    0A000): it runs plainly, where the read-only transaction refuses it.
 * 4. `ROLLBACK`, whatever happened (unless the connection was closed: it is discarded). Column types are PostgreSQL type names from pg_type (cached per executor); `date` values stay
 *    'YYYY-MM-DD' strings (as in the PGlite executor), other types as pg parses them.
 * 5. An aborted `signal` cancels the statement with `pg_cancel_backend(pid)` from another connection.
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
import { dataRowGuard, type DataRowGuard } from "./dataRowGuard.js";
import {
  CURSOR_DECLARATION,
  CURSOR_NAME,
  CURSOR_QUERY_START,
  DEFAULT_MAX_RESULT_BYTES,
  DEFAULT_MAX_ROWS,
  DEFAULT_TIMEOUT_MS,
  truncationWarning,
  type ExecuteOptions,
  type QueryResult,
  type SqlExecutor,
} from "./sqlExecutor.js";

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
  /** Default size cap of a result, bytes. Default DEFAULT_MAX_RESULT_BYTES (16 MB). */
  maxResultBytes?: number;
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
  const defaultMaxBytes = options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
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

  // Through the pool: the query's own connection may have been closed by the result size guard.
  const typeName = async (oid: number): Promise<string> => {
    if (!typeNames.has(oid)) {
      const result = await pool.query<{ typname: string }>("SELECT typname FROM pg_catalog.pg_type WHERE oid = $1", [
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
      const maxBytes = executeOptions.maxResultBytes ?? defaultMaxBytes;
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
      const timer = setTimeout(() => {
        destroyed = true;
        client.release(new Error("the server did not answer within the time limit"));
      }, timeoutMs + 2000);
      const guard = dataRowGuard(client);
      try {
        const started = performance.now();
        const fetched = await fetchBounded(client, guard, sql, executeOptions.params ?? [], {
          maxRows,
          maxBytes,
          deadline: started + timeoutMs,
          searchPath: executeOptions.searchPath,
        });
        const elapsedMs = performance.now() - started;
        const columns = [];
        for (const field of fetched.fields) columns.push({ name: field.name, type: await typeName(field.dataTypeID) });
        const result: QueryResult = {
          columns,
          rows: fetched.rows,
          rowCount: fetched.rows.length,
          truncated: fetched.by !== null,
          elapsedMs,
        };
        if (fetched.by !== null)
          result.warning = truncationWarning(fetched.by, result.rowCount, fetched.by === "rows" ? maxRows : maxBytes);
        return result;
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
        guard.stop();
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (destroyed) {
          // released (and discarded) by the timer
        } else if (guard.tripped)
          client.release(new Error("closed by the result size guard")); // discarded
        else {
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

// ─── bounded fetch ─────────────────────────────────────────────────────────────────────────────────

interface Fetched {
  fields: { name: string; dataTypeID: number }[];
  rows: unknown[][];
  /** Which cap cut the result, or null. */
  by: "rows" | "bytes" | null;
}

const arrayQuery = (text: string, values: unknown[] = []): pg.QueryArrayConfig =>
  ({ text, values, rowMode: "array", queryMode: "extended", types: TYPES }) as pg.QueryArrayConfig;

/**
 * BEGIN READ ONLY, then the statement through a cursor in batches (or plainly when it is not a query), within
 * `maxRows` and the guard's byte limit (see the file comment, step 3). The caller rolls back.
 */
async function fetchBounded(
  client: pg.PoolClient,
  guard: DataRowGuard,
  sql: string,
  values: unknown[],
  limits: { maxRows: number; maxBytes: number; deadline: number; searchPath?: string | undefined },
): Promise<Fetched> {
  const timeLeft = (): number => Math.max(1, Math.floor(limits.deadline - performance.now()));
  const begin = async (): Promise<void> => {
    await client.query("BEGIN READ ONLY");
    await client.query(`SET LOCAL statement_timeout = ${timeLeft()}`);
    // A parameter, never spliced: this transaction's search path (a test-suite variant's schema).
    if (limits.searchPath)
      await client.query({ text: "SELECT set_config('search_path', $1, true)", values: [limits.searchPath] });
  };
  const rows: unknown[][] = [];
  let fields: Fetched["fields"] = [];
  /** Keeps the rows that fit both caps; returns the cap that cut, else null. */
  const keep = (batch: unknown[][]): Fetched["by"] => {
    for (const row of batch) {
      if (rows.length >= limits.maxRows) return "rows";
      if (rows.length >= guard.sizes.length) return "bytes"; // its DataRow did not fit the byte limit
      rows.push(row);
    }
    return guard.tripped ? "bytes" : null;
  };
  /** One statement under the guard; a closed-by-the-guard connection ends the result instead of failing. */
  const run = async (text: string, params: unknown[] = []): Promise<pg.QueryArrayResult | null> => {
    try {
      return await client.query(arrayQuery(text, params));
    } catch (error) {
      if (guard.tripped) return null;
      throw error;
    }
  };

  await begin();
  guard.start(limits.maxBytes);
  if (CURSOR_QUERY_START.test(sql)) {
    let declared = true;
    try {
      await client.query({ text: `${CURSOR_DECLARATION}${sql}`, values, queryMode: "extended" } as pg.QueryConfig);
    } catch (error) {
      const e = error as PgError;
      if (e.code !== "0A000") {
        // Point the error's position into the caller's SQL, not the cursor declaration.
        if (e.position !== undefined && Number(e.position) > CURSOR_DECLARATION.length)
          e.position = String(Number(e.position) - CURSOR_DECLARATION.length);
        throw error;
      }
      declared = false; // a data-modifying WITH: run it plainly (the read-only transaction refuses it)
      await client.query("ROLLBACK");
      await begin();
    }
    if (declared) {
      for (let batch = 16; ; batch *= 2) {
        // A batch that crosses the byte limit is lost with the closed connection: once rows have arrived,
        // ask only for about as many as the room left holds at their mean size (80 %).
        const mean = guard.sizes.length > 0 ? guard.bytes / guard.sizes.length : 0;
        const fits = mean > 0 ? Math.floor((0.8 * (limits.maxBytes - guard.bytes)) / mean) : batch;
        const want = Math.max(1, Math.min(batch, 4096, fits, limits.maxRows + 1 - rows.length));
        if (rows.length > 0) await client.query(`SET LOCAL statement_timeout = ${timeLeft()}`);
        const result = await run(`FETCH FORWARD ${want} FROM ${CURSOR_NAME}`);
        if (result === null) return { fields, rows, by: "bytes" };
        fields = result.fields;
        const by = keep(result.rows);
        if (by !== null || result.rows.length < want) return { fields, rows, by };
      }
    }
  }
  const result = await run(sql, values);
  if (result === null) return { fields, rows, by: "bytes" };
  return { fields: result.fields, rows, by: keep(result.rows) };
}
