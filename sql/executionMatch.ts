/**
 * executionMatch — do two query outcomes count as the same answer (docs/execution-match.md)?
 *
 * Algorithm:
 *  0. Never equal on partial data: when a result was cut (`truncated`: more rows than maxRows, or more bytes
 *     than maxResultBytes), the verdict is decided only if the row counts alone settle it (a cut result has
 *     more rows than it kept: if it kept at least as many rows as the other, complete, result has, they
 *     differ); otherwise it is no match with `incomplete: true` — `executionMatchComplete` then re-executes
 *     the cut side(s) up to COMPLETE_RESULT_MAX_ROWS rows and compares those complete results.
 *  1. Either outcome an error (refusal, timeout, SQL error) → no match. Column counts differ → no match.
 *  2. Cells are canonicalised: NULL/undefined → null; numbers and numeric strings (numeric, bigint
 *     arrive as strings) → finite number; everything else → String(value). Numbers are equal when
 *     |a − b| ≤ 1e-6 · max(1, |a|, |b|).
 *  3. Column permutation: for each gold column, the candidate columns whose sorted canonical value
 *     signature equals it are its candidates; a backtracking search over those (not over all n!
 *     permutations) tries each consistent assignment.
 *  4. For a permutation: ordered → rows compared in sequence; unordered → multisets compared by
 *     sorting both row lists on a canonical key then comparing pairwise.
 */
import { executeOutcome, type ExecuteOptions, type ExecutionOutcome, type SqlExecutor } from "./sqlExecutor.js";

export interface MatchVerdict {
  match: boolean;
  reason: string;
  /** A result was cut and the rows kept could not decide: compare complete results (executionMatchComplete). */
  incomplete?: true;
}

/**
 * Rows up to which `executionMatchComplete` re-executes a cut result (100× the default cap): bigger results
 * are never called equal. Why re-execute rather than compare in the database: execution match allows column
 * permutations, numbers equal within a tolerance across types and NULL = NULL, which a SQL EXCEPT ALL cannot
 * express; one comparison (this file) on complete data keeps one meaning (docs/grpo.md "Rewards").
 */
export const COMPLETE_RESULT_MAX_ROWS = 100_000;

const REL_TOL = 1e-6;
type Cell = null | number | string;

function canon(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "string" && /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(v)) return Number(v);
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function cellEq(a: Cell, b: Cell): boolean {
  if (a === null || b === null) return a === b;
  if (typeof a === "number" && typeof b === "number") {
    if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
    return Math.abs(a - b) <= REL_TOL * Math.max(1, Math.abs(a), Math.abs(b));
  }
  return a === b;
}

/**
 * Does row order count? True when ORDER BY appears at parenthesis depth 0 of `sql` — its outermost SELECT
 * (or set operation) orders its rows — ignoring strings, quoted names, dollar quotes and comments; an
 * ORDER BY inside a subquery, a CTE, a window or an aggregate does not count. One rule for the reward,
 * evaluation and `gl-rl compare`.
 * @example
 * hasOuterOrderBy("SELECT a FROM t UNION SELECT b FROM u ORDER BY 1"); // true
 * hasOuterOrderBy("SELECT rank() OVER (ORDER BY a) FROM t");         // false
 */
export function hasOuterOrderBy(sql: string): boolean {
  const bare = sql
    .replace(/--[^\n]*/g, " ")
    .replace(/\/\*[\s\S]*?\*\//g, " ")
    .replace(/\$([A-Za-z_]*)\$[\s\S]*?\$\1\$/g, " ")
    .replace(/'(?:[^']|'')*'/g, " ")
    .replace(/"(?:[^"]|"")*"/g, " ");
  let depth = 0;
  let top = "";
  for (const ch of bare) {
    if (ch === "(") depth++;
    else if (ch === ")") depth = Math.max(0, depth - 1);
    else if (depth === 0) top += ch;
  }
  return /\border\s+by\b/i.test(top);
}

/** Sort key of a cell: type tag then value (numbers rounded to 6 significant digits). */
function cellKey(c: Cell): string {
  if (c === null) return "0";
  if (typeof c === "number") return `1${Number.isFinite(c) ? c.toPrecision(6) : String(c)}`;
  return `2${c}`;
}

function columnSignature(rows: Cell[][], col: number): string {
  return rows
    .map((r) => cellKey(r[col]!))
    .sort()
    .join("\u0001");
}

function rowsEqual(gold: Cell[][], cand: Cell[][], perm: number[], ordered: boolean): boolean {
  const mapped = cand.map((r) => perm.map((j) => r[j]!));
  let g = gold;
  let c = mapped;
  if (!ordered) {
    const key = (r: Cell[]): string => r.map(cellKey).join("\u0001");
    g = [...gold].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
    c = [...mapped].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
  }
  for (let i = 0; i < g.length; i++) {
    const gr = g[i]!;
    const cr = c[i]!;
    for (let k = 0; k < gr.length; k++) if (!cellEq(gr[k]!, cr[k]!)) return false;
  }
  return true;
}

export function executionMatch(
  gold: ExecutionOutcome,
  candidate: ExecutionOutcome,
  options: { ordered: boolean },
): MatchVerdict {
  if (!gold.ok) return { match: false, reason: `gold failed: ${gold.code}: ${gold.error}` };
  if (!candidate.ok) return { match: false, reason: `candidate failed: ${candidate.code}: ${candidate.error}` };
  const cut = truncationVerdict(gold.result, candidate.result);
  if (cut !== null) return cut;
  const g = gold.result.rows.map((r) => r.map(canon));
  const c = candidate.result.rows.map((r) => r.map(canon));
  const gCols = gold.result.columns.length;
  const cCols = candidate.result.columns.length;
  if (gCols !== cCols) return { match: false, reason: `column count differs: gold ${gCols}, candidate ${cCols}` };
  if (g.length !== c.length)
    return { match: false, reason: `row count differs: gold ${g.length}, candidate ${c.length}` };
  const gSig = Array.from({ length: gCols }, (_, i) => columnSignature(g, i));
  const cSig = Array.from({ length: cCols }, (_, i) => columnSignature(c, i));
  const options_ = gSig.map((s) => cSig.flatMap((t, j) => (t === s ? [j] : [])));
  // Signatures round numbers to 6 digits; a column with no exact-signature partner may still match
  // within tolerance, so it falls back to every candidate column.
  for (let i = 0; i < gCols; i++) if (options_[i]!.length === 0) options_[i] = cSig.map((_, j) => j);
  const used = new Array<boolean>(cCols).fill(false);
  const perm: number[] = [];
  let tries = 0;
  const search = (i: number): boolean => {
    if (tries > 10_000) return false;
    if (i === gCols) {
      tries++;
      return rowsEqual(g, c, perm, options.ordered);
    }
    for (const j of options_[i]!) {
      if (used[j]) continue;
      used[j] = true;
      perm.push(j);
      if (search(i + 1)) return true;
      perm.pop();
      used[j] = false;
    }
    return false;
  };
  if (search(0))
    return { match: true, reason: options.ordered ? "same rows in the same order" : "same multiset of rows" };
  return { match: false, reason: options.ordered ? "rows differ (order compared)" : "rows differ (as multisets)" };
}

/** Step 0: null when neither result was cut; else the verdict the row counts settle, or `incomplete`. */
function truncationVerdict(
  gold: { rowCount: number; truncated: boolean },
  candidate: { rowCount: number; truncated: boolean },
): MatchVerdict | null {
  if (!gold.truncated && !candidate.truncated) return null;
  // A cut result has more rows than the rowCount it kept.
  if (gold.truncated && !candidate.truncated && gold.rowCount >= candidate.rowCount)
    return {
      match: false,
      reason: `row count differs: gold has more than ${gold.rowCount}, candidate ${candidate.rowCount}`,
    };
  if (candidate.truncated && !gold.truncated && candidate.rowCount >= gold.rowCount)
    return {
      match: false,
      reason: `row count differs: gold ${gold.rowCount}, candidate more than ${candidate.rowCount}`,
    };
  const which =
    gold.truncated && candidate.truncated
      ? "both results were"
      : gold.truncated
        ? "the gold result was"
        : "the candidate result was";
  return { match: false, incomplete: true, reason: `${which} cut (truncated): not compared on partial rows` };
}

/** Runs `sql` sandboxed with the row cap raised to COMPLETE_RESULT_MAX_ROWS. */
export function executeComplete(
  executor: Pick<SqlExecutor, "execute">,
  sql: string,
  options: ExecuteOptions = {},
): Promise<ExecutionOutcome> {
  return executeOutcome(executor, sql, { ...options, maxRows: COMPLETE_RESULT_MAX_ROWS });
}

/**
 * executionMatch decided on complete data: when a result was cut and the counts cannot decide, the cut side(s)
 * are fetched again by `complete` (normally `executeComplete`, the gold one cached by the caller) and compared;
 * a result still cut at that bound is no match ("too large to compare").
 * @example
 * await executionMatchComplete(gold, candidate, {
 *   ordered: false,
 *   complete: (which) => executeComplete(db, which === "gold" ? goldSql : candidateSql),
 * });
 */
export async function executionMatchComplete(
  gold: ExecutionOutcome,
  candidate: ExecutionOutcome,
  options: { ordered: boolean; complete: (which: "gold" | "candidate") => Promise<ExecutionOutcome> },
): Promise<MatchVerdict> {
  const first = executionMatch(gold, candidate, options);
  if (!first.incomplete) return first;
  const cut = (o: ExecutionOutcome) => o.ok && o.result.truncated;
  const [g, c] = await Promise.all([
    cut(gold) ? options.complete("gold") : gold,
    cut(candidate) ? options.complete("candidate") : candidate,
  ]);
  const second = executionMatch(g, c, options);
  if (!second.incomplete) return second;
  return {
    match: false,
    reason: `a result has more than ${COMPLETE_RESULT_MAX_ROWS} rows (or bytes past the cap): too large to compare`,
  };
}
