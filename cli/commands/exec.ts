/**
 * `gl-rl exec [--db demo|pglite:<dir>|postgres://…] (--sql "<sql>" | --file <in.jsonl>) [--json]
 *  [--timeout-ms N] [--max-rows N]` — runs SQL sandboxed (read-only transaction, time limit, row cap,
 *  rollback) after the validator's safety policy.
 *
 * Output: `{ "rows": [{ column: value }], "rowCount", "truncated", "columns": [{name, type}] }`, or
 * `{ "error": { "code", "message", "hint" } }` when the statement is refused or fails. With `--file`
 * (lines `{id, sql}`) one such object per line, with the line's `id`, on stdout. Without `--json`,
 * `--sql` prints a table.
 *
 * Exit codes: `--file` 0 when the batch ran (whatever each query did); `--sql` 0 ok, 1 refused or failed;
 * 2 unusable input (flags, file, JSONL line, unreachable database), one line on stderr.
 */
import { InputError, isGlRlError } from "../../errors.js";
import { refuseUnsafe } from "../../sql/refuseUnsafe.js";
import type { QueryResult, SqlExecutor } from "../../sql/sqlExecutor.js";
import { parseCommandArgs, parseIntegerFlag } from "../parseCommandArgs.js";
import { readJsonlBatch } from "../readJsonlBatch.js";
import { errorJson, formatQueryResult, toJsonLine } from "../formatQueryResult.js";
import { queryResultRows } from "../../sql/sqlExecutor.js";
import { openCliDatabase } from "../openCliDatabase.js";

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      db: { type: "string" },
      sql: { type: "string" },
      file: { type: "string" },
      json: { type: "boolean" },
      "timeout-ms": { type: "string" },
      "max-rows": { type: "string" },
    },
    "gl-rl exec",
  );
  if (positionals.length > 0)
    throw new InputError(`gl-rl exec takes no positional arguments, got '${positionals.join(" ")}'`, {
      hint: 'quote the SQL: --sql "SELECT …"',
    });
  const sql = values.sql as string | undefined;
  const file = values.file as string | undefined;
  if ((sql === undefined) === (file === undefined))
    throw new InputError("gl-rl exec needs exactly one of --sql or --file", {
      hint: 'gl-rl exec --sql "SELECT count(*) FROM projects"',
    });
  const timeoutMs = parseIntegerFlag(values["timeout-ms"] as string | undefined, "timeout-ms", 5000);
  const maxRows = parseIntegerFlag(values["max-rows"] as string | undefined, "max-rows", 1000);
  const batch = file === undefined ? undefined : await readJsonlBatch(file, ["sql"]);
  const db = await openCliDatabase(values.db as string | undefined, { timeoutMs, maxRows });
  try {
    if (batch) {
      for (const item of batch) {
        const { json } = await execute(db, item.fields.sql);
        process.stdout.write(toJsonLine({ id: item.id, ...json }));
      }
      return 0;
    }
    const { json, result } = await execute(db, sql!);
    if (values.json) process.stdout.write(toJsonLine(json));
    else if ("error" in json)
      process.stderr.write(`gl-rl: ${json.error.message}${json.error.hint ? ` (hint: ${json.error.hint})` : ""}\n`);
    else if (result) {
      const n = result.rowCount;
      process.stdout.write(
        `${formatQueryResult(
          result.columns.map((c) => c.name),
          result.rows,
        )}(${n} row${n === 1 ? "" : "s"}${result.truncated ? ", truncated" : ""})\n`,
      );
    }
    return "error" in json ? 1 : 0;
  } finally {
    await db.close();
  }
}

type ExecJson =
  | { rows: Record<string, unknown>[]; rowCount: number; truncated: boolean; columns: QueryResult["columns"] }
  | { error: { code: string; message: string; hint?: string } };

/** Safety policy, then the sandboxed execution; gl-rl errors become `{ error }`. */
async function execute(db: SqlExecutor, sql: string): Promise<{ json: ExecJson; result?: QueryResult }> {
  try {
    await refuseUnsafe(sql);
    const result = await db.execute(sql);
    return {
      json: {
        rows: queryResultRows(result),
        rowCount: result.rowCount,
        truncated: result.truncated,
        columns: result.columns,
      },
      result,
    };
  } catch (error) {
    if (!isGlRlError(error)) throw error;
    return { json: { error: errorJson(error) } };
  }
}
