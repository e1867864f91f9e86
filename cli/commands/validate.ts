/**
 * `gl-rl validate [--db …] (--sql "<sql>" | --file <in.jsonl>) [--json]` — sql-core's validator:
 * `validateSql(sql, { schema, executor })` with the schema from `introspectSchema(executor)`.
 *
 * Output: the validator's `{ valid, errors: [{code, message, hint}], warnings }` (+ `id` per `--file`
 * line `{id, sql}`). Exit codes: `--file` 0 when the batch ran; `--sql` 0 valid, 1 invalid or refused;
 * 2 unusable input.
 *
 * sql/validateSql.ts and sql/schemaModel.ts are sql-core's and were still being written when this
 * command was; they are loaded by path so the CLI builds without them, and the command says so (exit 1)
 * until they exist.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { GlRlError, InputError } from "../../errors.js";
import type { SqlExecutor } from "../../sql/sqlExecutor.js";
import { toJsonLine } from "../formatQueryResult.js";
import { openCliDatabase } from "../openCliDatabase.js";
import { parseCommandArgs } from "../parseCommandArgs.js";
import { readJsonlBatch } from "../readJsonlBatch.js";

interface Verdict {
  valid: boolean;
  errors: { code: string; message: string; hint?: string }[];
  warnings?: { code: string; message: string; hint?: string }[];
}
type ValidateSql = (sql: string, options: { schema: unknown; executor?: SqlExecutor }) => Promise<Verdict>;
type IntrospectSchema = (executor: SqlExecutor) => Promise<unknown>;

async function loadValidator(): Promise<{ validateSql: ValidateSql; introspectSchema: IntrospectSchema }> {
  const extension = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  const validateUrl = new URL(`../../sql/validateSql${extension}`, import.meta.url);
  const schemaUrl = new URL(`../../sql/schemaModel${extension}`, import.meta.url);
  if (!existsSync(fileURLToPath(validateUrl)) || !existsSync(fileURLToPath(schemaUrl))) {
    throw new GlRlError("not_available", "the validator (sql/validateSql, sql/schemaModel) is not part of this build yet", {
      hint: "use gl-rl exec to run SQL sandboxed meanwhile",
    });
  }
  const { validateSql } = (await import(validateUrl.href)) as { validateSql: ValidateSql };
  const { introspectSchema } = (await import(schemaUrl.href)) as { introspectSchema: IntrospectSchema };
  return { validateSql, introspectSchema };
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    db: { type: "string" },
    sql: { type: "string" },
    file: { type: "string" },
    json: { type: "boolean" },
  }, "gl-rl validate");
  if (positionals.length > 0) throw new InputError(`gl-rl validate takes no positional arguments, got '${positionals.join(" ")}'`, { hint: "quote the SQL: --sql \"SELECT …\"" });
  const sql = values.sql as string | undefined;
  const file = values.file as string | undefined;
  if ((sql === undefined) === (file === undefined)) throw new InputError("gl-rl validate needs exactly one of --sql or --file", { hint: "gl-rl validate --sql \"SELECT count(*) FROM projects\"" });
  const batch = file === undefined ? undefined : await readJsonlBatch(file, ["sql"]);
  const { validateSql, introspectSchema } = await loadValidator();
  const db = await openCliDatabase(values.db as string | undefined);
  try {
    const schema = await introspectSchema(db);
    if (batch) {
      for (const item of batch) process.stdout.write(toJsonLine({ id: item.id, ...(await validateSql(item.fields.sql, { schema, executor: db })) }));
      return 0;
    }
    const verdict = await validateSql(sql!, { schema, executor: db });
    if (values.json) process.stdout.write(toJsonLine(verdict));
    else {
      const lines = [verdict.valid ? "valid" : "invalid"];
      for (const e of verdict.errors) lines.push(`  error ${e.code}: ${e.message}${e.hint ? ` (hint: ${e.hint})` : ""}`);
      for (const w of verdict.warnings ?? []) lines.push(`  warning ${w.code}: ${w.message}${w.hint ? ` (hint: ${w.hint})` : ""}`);
      process.stdout.write(`${lines.join("\n")}\n`);
    }
    return verdict.valid ? 0 : 1;
  } finally {
    await db.close();
  }
}
