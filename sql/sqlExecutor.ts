/**
 * The subset of a database that gl-rl needs: run one statement, sandboxed, and describe the result.
 * Implemented by the PGlite executor (embedded, the default) and the PostgreSQL executor (`pg`);
 * unit tests may use fakes.
 */

/** One result column. `type` is PostgreSQL's type name (`int4`, `numeric`, `text`, `date`…). */
export interface ResultColumn {
  name: string;
  type: string;
}

/** A query's result. `rows[i][j]` is the value of column j in row i (JS values as the driver parses them). */
export interface QueryResult {
  columns: ResultColumn[];
  rows: unknown[][];
  /** Rows returned (≤ maxRows). */
  rowCount: number;
  /** True when more rows existed than `maxRows` and the rest were dropped. */
  truncated: boolean;
  /** Wall time of the statement, milliseconds. */
  elapsedMs: number;
}

/** Limits of one sandboxed execution. */
export interface ExecuteOptions {
  /** Hard time limit, milliseconds. Default 5000. */
  timeoutMs?: number;
  /** Row cap: rows past it are dropped and `truncated` is set. Default 1000. */
  maxRows?: number;
  /** Query parameters ($1, $2…). */
  params?: unknown[];
  signal?: AbortSignal;
}

export interface SqlExecutor {
  /** `pglite` or `postgres`. */
  readonly dialect: "pglite" | "postgres";
  /** A short description for messages (`demo`, `pglite:/path`, `postgres://user@host/db`). */
  readonly description: string;
  /**
   * Runs one untrusted statement sandboxed: read-only transaction, hard time limit, row cap, then
   * rollback. Never changes data. Rejects with a `DatabaseError` (or `TimeoutError`) on failure.
   */
  execute(sql: string, options?: ExecuteOptions): Promise<QueryResult>;
  /** Releases the connection / worker. */
  close(): Promise<void>;
}

/** The rows of a result as objects keyed by column name (repeated names get `_2`, `_3`…, so no value is lost). */
export function queryResultRows(result: QueryResult): Record<string, unknown>[] {
  const seen = new Map<string, number>();
  const keys = result.columns.map(({ name }) => {
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return n === 1 ? name : `${name}_${n}`;
  });
  return result.rows.map((row) => Object.fromEntries(keys.map((key, j) => [key, row[j]])));
}
