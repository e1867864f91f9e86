/**
 * `gl-rl compare [--db …] (--gold "<sql>" --candidate "<sql>" | --file <in.jsonl>) [--json]
 *  [--timeout-ms N] [--suite K]` — do two queries return the same answer (docs/execution-match.md)?
 *
 * Algorithm per pair: each query passes the safety policy and runs sandboxed (a refusal, an error or a
 * timeout is that side's failure); `executionMatch` (sql/executionMatch.ts) decides, with row order
 * compared only when the gold query's outermost SELECT has ORDER BY (`hasOuterOrderBy`: ORDER BY at
 * parenthesis depth 0, outside strings and comments). Rows are not capped for comparison beyond
 * 100,000 (a truncated result never matches).
 *
 * --suite K (default 0): the test-suite match (docs/execution-match.md "Test suite"; sql/testSuiteMatch.ts) —
 * the same result on the database AND on K seeded variants of it where the gold runs, with a gold that returns a
 * row somewhere; `match` is that verdict, and the output adds `"database_match"` (the database alone) and
 * `"variants_compared"`.
 *
 * Output: `{ "match": bool, "reason": "…", "ordered": bool }` (+ `"id"` per `--file` line `{id, gold,
 * candidate}`). Exit codes: `--file` 0 when the batch ran; otherwise 0 match, 1 no match (or a query
 * failed), 2 unusable input.
 */
import { InputError, isGlRlError } from "../../errors.js";
import { COMPLETE_RESULT_MAX_ROWS, executionMatch, hasOuterOrderBy } from "../../sql/executionMatch.js";
import { type ExecutionOutcome, failedOutcome, type SqlExecutor } from "../../sql/sqlExecutor.js";
import { toJsonLine } from "../formatQueryResult.js";
import { openCliDatabase } from "../openCliDatabase.js";
import { parseCommandArgs, parseIntegerFlag } from "../parseCommandArgs.js";
import { readJsonlBatch } from "../readJsonlBatch.js";
import { refuseUnsafe } from "../../sql/refuseUnsafe.js";
import { databaseVariants } from "../../sql/databaseVariants.js";
import { runOnSuite, testSuiteVerdict } from "../../sql/testSuiteMatch.js";

const COMPARE_MAX_ROWS = COMPLETE_RESULT_MAX_ROWS;

async function outcome(db: SqlExecutor, sql: string, timeoutMs: number): Promise<ExecutionOutcome> {
  try {
    await refuseUnsafe(sql);
    const result = await db.execute(sql, { timeoutMs, maxRows: COMPARE_MAX_ROWS });
    if (result.truncated)
      return { ok: false, kind: "error", code: "too_many_rows", error: `more than ${COMPARE_MAX_ROWS} rows` };
    return { ok: true, result };
  } catch (error) {
    if (!isGlRlError(error)) throw error;
    return failedOutcome(error);
  }
}

interface PairVerdict {
  match: boolean;
  reason: string;
  ordered: boolean;
  database_match?: boolean;
  variants_compared?: number;
}

async function comparePair(
  db: SqlExecutor,
  gold: string,
  candidate: string,
  timeoutMs: number,
  suite: number,
): Promise<PairVerdict> {
  const ordered = hasOuterOrderBy(gold);
  const real = { gold: await outcome(db, gold, timeoutMs), candidate: await outcome(db, candidate, timeoutMs) };
  if (suite === 0) {
    const verdict = executionMatch(real.gold, real.candidate, { ordered });
    return { match: verdict.match, reason: verdict.reason, ordered };
  }
  // Both already passed the safety policy on the database (a refused one failed there and is not run again).
  const runs =
    real.gold.ok && real.candidate.ok
      ? (await runOnSuite(await databaseVariants(db, { k: suite }), gold, candidate, { timeoutMs })).compared
      : [];
  const verdict = testSuiteVerdict(real, runs, ordered);
  return {
    match: verdict.match,
    reason: verdict.reason,
    ordered,
    database_match: verdict.realMatch,
    variants_compared: verdict.compared,
  };
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      db: { type: "string" },
      gold: { type: "string" },
      candidate: { type: "string" },
      file: { type: "string" },
      json: { type: "boolean" },
      "timeout-ms": { type: "string" },
      suite: { type: "string" },
    },
    "gl-rl compare",
  );
  if (positionals.length > 0)
    throw new InputError(`gl-rl compare takes no positional arguments, got '${positionals.join(" ")}'`, {
      hint: 'quote the SQL: --gold "SELECT …"',
    });
  const gold = values.gold as string | undefined;
  const candidate = values.candidate as string | undefined;
  const file = values.file as string | undefined;
  const pair = gold !== undefined || candidate !== undefined;
  if (pair === (file !== undefined) || (pair && (gold === undefined || candidate === undefined))) {
    throw new InputError("gl-rl compare needs --gold and --candidate, or --file", {
      hint: 'gl-rl compare --gold "SELECT 1" --candidate "SELECT 1.0"',
    });
  }
  const timeoutMs = parseIntegerFlag(values["timeout-ms"] as string | undefined, "timeout-ms", 5000);
  const suite = parseIntegerFlag(values.suite as string | undefined, "suite", 0);
  const batch = file === undefined ? undefined : await readJsonlBatch(file, ["gold", "candidate"]);
  const db = await openCliDatabase(values.db as string | undefined, { timeoutMs });
  try {
    if (batch) {
      for (const item of batch)
        process.stdout.write(
          toJsonLine({
            id: item.id,
            ...(await comparePair(db, item.fields.gold, item.fields.candidate, timeoutMs, suite)),
          }),
        );
      return 0;
    }
    const verdict = await comparePair(db, gold!, candidate!, timeoutMs, suite);
    if (values.json) process.stdout.write(toJsonLine(verdict));
    else process.stdout.write(`${verdict.match ? "match" : "no match"}: ${verdict.reason}\n`);
    return verdict.match ? 0 : 1;
  } finally {
    await db.close();
  }
}
