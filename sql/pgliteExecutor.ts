/**
 * The embedded executor: PGlite (PostgreSQL in WASM) in a worker thread.
 *
 * Algorithm of `execute(sql)`:
 * 1. Calls are serialised (PGlite has one connection); each waits for the worker to be ready.
 * 2. The worker runs BEGIN; SET TRANSACTION READ ONLY; SET LOCAL ROLE glrl_reader (a SELECT-only role,
 *    when the database has it); the statement through `query()` (extended protocol: exactly one
 *    statement, never `exec()`); ROLLBACK. A query (sql/sqlExecutor.ts CURSOR_QUERY_START) runs as
 *    DECLARE … CURSOR FOR and its rows come in FETCH batches: at most maxRows + 1 (default 1000) are
 *    fetched, and the first row that would take the result past `maxResultBytes` (default 16 MB) ends it;
 *    either cut sets `truncated` and a `warning`. Only the kept rows cross to this thread. Column types are PostgreSQL type names from pg_type; `date` values stay
 *    'YYYY-MM-DD' strings (no time zone can shift them), other types as PGlite parses them.
 * 3. PGlite ignores `statement_timeout`, so the time limit (default 5000 ms) is a timer in this thread:
 *    when it fires (or `signal` aborts) the worker is terminated and a fresh one is started from the
 *    same source — the persistent data directory, or the in-memory dump tarball (~0.5–1.3 s) — and the
 *    call rejects with a `TimeoutError` (or `AbortError`). Nothing was written, so nothing is lost.
 *    In memory, `admin()` writes make the dump stale: the first `execute()` after them takes a fresh
 *    dump (untimed) so a restart keeps them.
 *
 * `admin(sql)` is the trusted path (schema, seed, role setup): the simple protocol, several statements,
 * writes allowed. Never pass generated SQL to it.
 *
 * @example
 * const executor = await createPgliteExecutor({ dump: await readFile("demo.tar.gz") });
 * const { rows } = await executor.execute("SELECT count(*) FROM projects", { timeoutMs: 2000 });
 * await executor.close();
 */
import { Worker } from "node:worker_threads";
import { AbortError, DatabaseError, TimeoutError } from "../errors.js";
import {
  CURSOR_DECLARATION,
  CURSOR_QUERY_START,
  DEFAULT_MAX_RESULT_BYTES,
  DEFAULT_MAX_ROWS,
  DEFAULT_TIMEOUT_MS,
  truncationWarning,
  type ExecuteOptions,
  type QueryResult,
  type SqlExecutor,
} from "./sqlExecutor.js";

/** The SELECT-only role untrusted statements run as (created by `READER_ROLE_SQL`). */
export const READER_ROLE = "glrl_reader";

/**
 * Idempotent admin SQL that creates the reader role and grants it SELECT on every table of every
 * non-system schema (run at init and whenever tables were added).
 */
export const READER_ROLE_SQL = `
DO $glrl$
DECLARE s record;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = '${READER_ROLE}') THEN
    CREATE ROLE ${READER_ROLE} NOLOGIN;
  END IF;
  FOR s IN SELECT nspname FROM pg_catalog.pg_namespace
           WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND nspname NOT LIKE 'pg_temp%' AND nspname NOT LIKE 'pg_toast_temp%'
  LOOP
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO ${READER_ROLE}', s.nspname);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO ${READER_ROLE}', s.nspname);
  END LOOP;
END
$glrl$;`;

export interface PgliteExecutorOptions {
  /** A persistent PGlite data directory. Default: none (in memory). */
  dataDir?: string;
  /** A `dumpDataDir()` tarball to load into memory (ignored when `dataDir` is set). */
  dump?: Uint8Array;
  /** For messages: `demo`, `pglite:/path`… Default: `pglite:<dataDir>` or `pglite:memory`. */
  description?: string;
  /** Default time limit of `execute`, ms. Default 5000. */
  timeoutMs?: number;
  /** Default row cap of `execute`. Default 1000. */
  maxRows?: number;
  /** Default size cap of a result, bytes. Default DEFAULT_MAX_RESULT_BYTES (16 MB). */
  maxResultBytes?: number;
  /** Limit on starting the worker (loading the database), ms. Default 60000. */
  startTimeoutMs?: number;
}

/** The PGlite executor: `SqlExecutor` plus the trusted admin path and a dump of the database. */
export interface PgliteExecutor extends SqlExecutor {
  readonly dialect: "pglite";
  /** Trusted SQL (several statements, writes allowed) — schema, seed, setup. Never generated SQL. */
  admin(sql: string): Promise<void>;
  /**
   * The database as a `dumpDataDir()` tarball (loadable with `{ dump }`): gzipped by default; `"none"`
   * is ~9× larger but loads faster (demo: 0.6 s vs 1.0 s).
   */
  dump(compression?: "gzip" | "none"): Promise<Uint8Array>;
  /** Times the worker was terminated and restarted (timeouts, aborts). */
  readonly restarts: number;
  [Symbol.asyncDispose](): Promise<void>;
}

interface WorkerError {
  message: string;
  sqlstate?: string;
  hint?: string;
  detail?: string;
  position?: string;
}

type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: WorkerError };

const WORKER_URL = new URL("./pgliteWorker.mjs", import.meta.url);

/** Starts a worker and resolves once its PGlite is open. */
function startWorker(options: PgliteExecutorOptions, description: string): Promise<Worker> {
  const worker = new Worker(WORKER_URL, {
    workerData: { dataDir: options.dataDir, dump: options.dataDir ? undefined : options.dump, readerRole: READER_ROLE },
  });
  const limit = options.startTimeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    // Only our own listeners are removed: `worker.removeAllListeners()` would also strip Node's internal
    // `newListener`/`removeListener` hooks that ref the message port, and later replies never arrive.
    const detach = (): void => {
      clearTimeout(timer);
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
    };
    const fail = (error: Error): void => {
      detach();
      void worker.terminate();
      reject(error);
    };
    const timer = setTimeout(
      () =>
        fail(
          new DatabaseError("db_open_failed", `opening ${description} took longer than ${limit} ms`, {
            hint: "check that the data directory is a PGlite database and not used by another process",
          }),
        ),
      limit,
    );
    const onMessage = (message: { kind?: string; error?: WorkerError }): void => {
      if (message.kind === "ready") {
        detach();
        // An error while idle must not crash the process; the next call times out and restarts.
        worker.on("error", () => undefined);
        resolve(worker);
      } else if (message.kind === "fatal") {
        fail(
          new DatabaseError("db_open_failed", `could not open ${description}: ${message.error?.message}`, {
            hint: options.dataDir
              ? `initialise it with 'gl-rl db init --db pglite:${options.dataDir}'`
              : "the database dump may be corrupt; delete the cache and retry",
            context: { dataDir: options.dataDir },
          }),
        );
      }
    };
    const onError = (error: Error): void =>
      fail(new DatabaseError("db_open_failed", `could not open ${description}: ${error.message}`, { cause: error }));
    const onExit = (code: number): void =>
      fail(
        new DatabaseError("db_open_failed", `the PGlite worker for ${description} exited (code ${code}) while opening`),
      );
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
  });
}

/**
 * Opens PGlite in a worker thread.
 *
 * @example
 * const executor = await createPgliteExecutor({ dataDir: "/tmp/gl" });
 * await executor.admin("CREATE TABLE t (a int); INSERT INTO t VALUES (1);");
 * console.log((await executor.execute("SELECT a FROM t")).rows); // [[1]]
 */
export async function createPgliteExecutor(options: PgliteExecutorOptions = {}): Promise<PgliteExecutor> {
  const description = options.description ?? (options.dataDir ? `pglite:${options.dataDir}` : "pglite:memory");
  const defaultTimeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const defaultMaxRows = options.maxRows ?? DEFAULT_MAX_ROWS;
  const defaultMaxBytes = options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
  // What a restarted worker loads: the data directory, or (in memory) the latest dump. Trusted writes
  // through admin() make the in-memory dump stale; it is refreshed before the next execute().
  const source: PgliteExecutorOptions = { ...options };
  let sourceStale = false;
  let worker: Promise<Worker> = startWorker(source, description);
  await worker;
  let nextId = 1;
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;
  let restarts = 0;

  /** Sends one message and awaits its reply; `limitMs`/`signal` terminate and restart the worker. */
  const call = (
    message: Record<string, unknown>,
    limitMs: number | undefined,
    signal: AbortSignal | undefined,
    sql: string | undefined,
  ): Promise<unknown> => {
    const run = async (): Promise<unknown> => {
      if (closed) throw new DatabaseError("db_closed", `${description} is closed`, { hint: "open the database again" });
      if (signal?.aborted) throw new AbortError(`the query on ${description} was aborted before it started`);
      const w = await worker;
      const id = nextId++;
      return new Promise((resolve, reject) => {
        let settled = false;
        const cleanup = (): void => {
          settled = true;
          clearTimeout(timer);
          w.off("message", onMessage);
          w.off("exit", onExit);
          w.off("error", onError);
          signal?.removeEventListener("abort", onAbort);
        };
        const restart = (error: Error): void => {
          if (settled) return;
          cleanup();
          restarts++;
          void w.terminate();
          worker = startWorker(source, description);
          // Keep the queue waiting until the fresh worker is ready (errors surface on the next call).
          worker.then(
            () => reject(error),
            () => reject(error),
          );
        };
        const onMessage = (reply: Reply): void => {
          if (reply.id !== id) return;
          cleanup();
          if (reply.ok) resolve(reply.result);
          else reject(toDatabaseError(reply.error, description, sql));
        };
        const onExit = (code: number): void => {
          restart(
            new DatabaseError("db_worker_exited", `the PGlite worker for ${description} exited (code ${code})`, {
              hint: "the query may have run out of memory; add a LIMIT or narrower filters",
              context: { sql },
            }),
          );
        };
        const onError = (error: Error): void => {
          restart(
            new DatabaseError("db_worker_failed", `the PGlite worker for ${description} failed: ${error.message}`, {
              hint: "the query may have run out of memory; add a LIMIT or narrower filters",
              context: { sql },
              cause: error,
            }),
          );
        };
        const onAbort = (): void =>
          restart(new AbortError(`the query on ${description} was aborted`, { context: { sql } }));
        const timer =
          limitMs === undefined
            ? undefined
            : setTimeout(
                () =>
                  restart(
                    new TimeoutError(`the query ran past its ${limitMs} ms limit on ${description} and was stopped`, {
                      hint: "add filters or a LIMIT, or raise timeoutMs",
                      context: { sql, timeoutMs: limitMs },
                    }),
                  ),
                limitMs,
              );
        w.on("message", onMessage);
        w.on("exit", onExit);
        w.on("error", onError);
        signal?.addEventListener("abort", onAbort, { once: true });
        w.postMessage({ ...message, id });
      });
    };
    const result = queue.then(run, run);
    queue = result.catch(() => undefined);
    return result;
  };

  const executor: PgliteExecutor = {
    dialect: "pglite",
    description,
    get restarts() {
      return restarts;
    },
    async execute(sql: string, executeOptions: ExecuteOptions = {}): Promise<QueryResult> {
      const timeoutMs = executeOptions.timeoutMs ?? defaultTimeoutMs;
      const maxRows = executeOptions.maxRows ?? defaultMaxRows;
      const maxBytes = executeOptions.maxResultBytes ?? defaultMaxBytes;
      if (sourceStale) await executor.dump();
      const cursor = CURSOR_QUERY_START.test(sql) ? CURSOR_DECLARATION : null;
      const { truncatedBy, ...result } = (await call(
        {
          kind: "execute",
          sql,
          params: executeOptions.params ?? [],
          maxRows,
          maxBytes,
          cursor,
          searchPath: executeOptions.searchPath,
        },
        timeoutMs,
        executeOptions.signal,
        sql,
      )) as QueryResult & { truncatedBy: "rows" | "bytes" | null };
      return truncatedBy === null
        ? result
        : {
            ...result,
            warning: truncationWarning(truncatedBy, result.rowCount, truncatedBy === "rows" ? maxRows : maxBytes),
          };
    },
    async admin(sql: string): Promise<void> {
      await call({ kind: "admin", sql }, undefined, undefined, undefined);
      if (!options.dataDir) sourceStale = true;
    },
    async dump(compression: "gzip" | "none" = "gzip"): Promise<Uint8Array> {
      const bytes = (await call({ kind: "dump", compression }, undefined, undefined, undefined)) as Uint8Array;
      if (!options.dataDir) {
        source.dump = bytes;
        sourceStale = false;
      }
      return bytes;
    },
    async close(): Promise<void> {
      if (closed) return;
      try {
        await call({ kind: "close" }, 10_000, undefined, undefined);
      } catch {
        // Closing is best effort; the worker is terminated below either way.
      }
      closed = true;
      await (await worker.catch(() => undefined))?.terminate();
    },
    async [Symbol.asyncDispose](): Promise<void> {
      await executor.close();
    },
  };
  return executor;
}

function toDatabaseError(error: WorkerError, description: string, sql: string | undefined): DatabaseError {
  const state = error.sqlstate ? ` (SQLSTATE ${error.sqlstate})` : "";
  const readOnly = error.sqlstate === "25006";
  return new DatabaseError(
    readOnly ? "read_only_violation" : "query_failed",
    `${description}: ${error.message}${state}`,
    {
      hint: error.hint ?? (readOnly ? "generated SQL may only read: use SELECT" : "check the SQL against the schema"),
      context: { sql, sqlstate: error.sqlstate, detail: error.detail, position: error.position },
    },
  );
}
