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
  /** True when more rows existed than `maxRows`, or the rows passed `maxResultBytes`, and the rest were dropped. */
  truncated: boolean;
  /** Why the result was cut, in words (`truncationWarning`); absent when it was not. */
  warning?: string;
  /** Wall time of the statement, milliseconds. */
  elapsedMs: number;
}

/** Limits of one sandboxed execution. */
export interface ExecuteOptions {
  /** Hard time limit, milliseconds. Default 5000. */
  timeoutMs?: number;
  /** Row cap: at most maxRows + 1 rows are fetched; rows past it are dropped and `truncated` is set. Default 1000. */
  maxRows?: number;
  /**
   * Size cap of the result, bytes (DEFAULT_MAX_RESULT_BYTES, 16 MB): rows are fetched in batches through a
   * cursor and the first row that would pass the cap ends the result, with `truncated` and a `warning`.
   */
  maxResultBytes?: number;
  /** Query parameters ($1, $2…). */
  params?: unknown[];
  /**
   * Schemas that resolve unqualified names for this statement only (`set_config('search_path', …, true)` inside
   * its transaction), e.g. `glrl_suite_1, public`: how a test-suite variant is queried (sql/databaseVariants.ts).
   */
  searchPath?: string;
  signal?: AbortSignal;
}

/** Default time limit of `execute`, ms. */
export const DEFAULT_TIMEOUT_MS = 5000;
/** Default row cap of `execute`. */
export const DEFAULT_MAX_ROWS = 1000;
/** Default size cap of a result, bytes: 16 MB (a 200 MB value would otherwise reach the client whole). */
export const DEFAULT_MAX_RESULT_BYTES = 16 * 2 ** 20;

/**
 * The warning of a cut result.
 * @example
 * truncationWarning("bytes", 12, 16 * 2 ** 20); // "the result was cut at 12 rows: the next row would pass the 16 MB size limit (maxResultBytes)"
 */
export function truncationWarning(by: "rows" | "bytes", rowCount: number, limit: number): string {
  const rows = `${rowCount} row${rowCount === 1 ? "" : "s"}`;
  if (by === "rows") return `the result was cut at ${rows} (maxRows ${limit})`;
  const size = limit >= 2 ** 20 ? `${+(limit / 2 ** 20).toFixed(1)} MB` : `${limit} bytes`;
  return `the result was cut at ${rows}: the next row would pass the ${size} size limit (maxResultBytes)`;
}

/**
 * Whether DECLARE … CURSOR FOR can run a statement: a query (SELECT, WITH, VALUES, TABLE, or a
 * parenthesised one) after leading comments. The executors fetch those through a cursor in batches;
 * anything else (EXPLAIN, SHOW) runs plainly and is capped after the fact.
 */
export const CURSOR_QUERY_START = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*[\s(]*(?:select|with|values|table)\b/i;

/** The cursor both executors declare: `${CURSOR_DECLARATION}<sql>` (error positions are shifted back by its length). */
export const CURSOR_NAME = "glrl_result";
export const CURSOR_DECLARATION = `DECLARE ${CURSOR_NAME} NO SCROLL CURSOR FOR `;

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

/**
 * How one query's sandboxed execution ended — the one outcome type of gl-rl: the agents' candidates, the
 * rewards' samples, execution match and `gl-rl compare` all use it. `kind` says why a query gave no result:
 * `refused` (the validator or the safety policy blocked it before it ran), `timeout`, or `error` (the
 * database said no); `code` is the error's stable code (errors.ts), `hint` how to fix it when one is known.
 */
export type ExecutionOutcome =
  | { ok: true; result: QueryResult }
  | { ok: false; kind: "error" | "timeout" | "refused"; code: string; error: string; hint?: string };

/**
 * Runs `sql` sandboxed and turns a failure into an outcome instead of a rejection.
 * @example
 * const outcome = await executeOutcome(db, "SELECT 1");
 * if (!outcome.ok) console.log(outcome.kind, outcome.error);
 */
export async function executeOutcome(
  executor: Pick<SqlExecutor, "execute">,
  sql: string,
  options?: ExecuteOptions,
): Promise<ExecutionOutcome> {
  try {
    return { ok: true, result: await executor.execute(sql, options) };
  } catch (error) {
    return failedOutcome(error);
  }
}

/** An error (a GlRlError or anything thrown) as a failed ExecutionOutcome. */
export function failedOutcome(error: unknown): ExecutionOutcome & { ok: false } {
  const name = error instanceof Error ? error.name : "";
  const kind = name === "TimeoutError" ? "timeout" : name === "SqlRefusedError" ? "refused" : "error";
  const { code, hint } = (typeof error === "object" && error !== null ? error : {}) as {
    code?: unknown;
    hint?: unknown;
  };
  return {
    ok: false,
    kind,
    code: typeof code === "string" ? code : kind,
    error: error instanceof Error ? error.message : String(error),
    ...(typeof hint === "string" && hint !== "" ? { hint } : {}),
  };
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
