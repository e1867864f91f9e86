/**
 * `gl-rl compare [--db …] (--gold "<sql>" --candidate "<sql>" | --file <in.jsonl>) [--json]
 *  [--timeout-ms N]` — do two queries return the same answer (docs/execution-match.md)?
 *
 * Algorithm per pair: each query passes the safety policy and runs sandboxed (a refusal, an error or a
 * timeout is that side's failure); `executionMatch` (sql/executionMatch.ts) decides, with row order
 * compared only when the gold query's outermost SELECT has ORDER BY (`hasOuterOrderBy`: ORDER BY at
 * parenthesis depth 0, outside strings and comments). Rows are not capped for comparison beyond
 * 100,000 (a truncated result never matches).
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

async function comparePair(
  db: SqlExecutor,
  gold: string,
  candidate: string,
  timeoutMs: number,
): Promise<{ match: boolean; reason: string; ordered: boolean }> {
  const ordered = hasOuterOrderBy(gold);
  const verdict = executionMatch(await outcome(db, gold, timeoutMs), await outcome(db, candidate, timeoutMs), {
    ordered,
  });
  return { match: verdict.match, reason: verdict.reason, ordered };
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
  const batch = file === undefined ? undefined : await readJsonlBatch(file, ["gold", "candidate"]);
  const db = await openCliDatabase(values.db as string | undefined, { timeoutMs });
  try {
    if (batch) {
      for (const item of batch)
        process.stdout.write(
          toJsonLine({ id: item.id, ...(await comparePair(db, item.fields.gold, item.fields.candidate, timeoutMs)) }),
        );
      return 0;
    }
    const verdict = await comparePair(db, gold!, candidate!, timeoutMs);
    if (values.json) process.stdout.write(toJsonLine(verdict));
    else process.stdout.write(`${verdict.match ? "match" : "no match"}: ${verdict.reason}\n`);
    return verdict.match ? 0 : 1;
  } finally {
    await db.close();
  }
}
