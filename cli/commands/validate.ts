/**
 * `gl-rl validate [--db …] (--sql "<sql>" | --file <in.jsonl>) [--json]` — sql-core's validator:
 * `validateSql(sql, { schema, executor })` with the schema from `introspectSchema(executor)`; on the demo
 * database also its GL business rules (DEMO_BUSINESS_RULES: `rule_*` warnings).
 *
 * Output: the validator's `{ valid, errors: [{code, message, hint}], warnings }` (+ `id` per `--file`
 * line `{id, sql}`). Exit codes: `--file` 0 when the batch ran; `--sql` 0 valid, 1 invalid or refused;
 * 2 unusable input.
 */
import { InputError } from "../../errors.js";
import { defaultBusinessRules } from "../../sql/businessRules.js";
import { introspectSchema } from "../../sql/schemaModel.js";
import { validateSql, type ValidateOptions, type ValidationResult } from "../../sql/validateSql.js";
import { toJsonLine } from "../formatQueryResult.js";
import { openCliDatabase } from "../openCliDatabase.js";
import { parseCommandArgs } from "../parseCommandArgs.js";
import { readJsonlBatch } from "../readJsonlBatch.js";

/** The verdict without the analysis (the command's output contract). */
async function verdictOf(sql: string, options: ValidateOptions): Promise<Omit<ValidationResult, "analysis">> {
  const { valid, errors, warnings } = await validateSql(sql, options);
  return { valid, errors, warnings };
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      db: { type: "string" },
      sql: { type: "string" },
      file: { type: "string" },
      json: { type: "boolean" },
    },
    "gl-rl validate",
  );
  if (positionals.length > 0)
    throw new InputError(`gl-rl validate takes no positional arguments, got '${positionals.join(" ")}'`, {
      hint: 'quote the SQL: --sql "SELECT …"',
    });
  const sql = values.sql as string | undefined;
  const file = values.file as string | undefined;
  if ((sql === undefined) === (file === undefined))
    throw new InputError("gl-rl validate needs exactly one of --sql or --file", {
      hint: 'gl-rl validate --sql "SELECT count(*) FROM projects"',
    });
  const batch = file === undefined ? undefined : await readJsonlBatch(file, ["sql"]);
  const db = await openCliDatabase(values.db as string | undefined);
  try {
    const schema = await introspectSchema(db);
    // Business rules are about one database's meaning: the demo's GL rules apply to the demo only.
    const options: ValidateOptions = {
      schema,
      executor: db,
      businessRules: defaultBusinessRules(values.db as string | undefined),
    };
    if (batch) {
      for (const item of batch)
        process.stdout.write(toJsonLine({ id: item.id, ...(await verdictOf(item.fields.sql, options)) }));
      return 0;
    }
    const verdict = await verdictOf(sql!, options);
    if (values.json) process.stdout.write(toJsonLine(verdict));
    else {
      const lines = [verdict.valid ? "valid" : "invalid"];
      for (const e of verdict.errors)
        lines.push(`  error ${e.code}: ${e.message}${e.hint ? ` (hint: ${e.hint})` : ""}`);
      for (const w of verdict.warnings)
        lines.push(`  warning ${w.code}: ${w.message}${w.hint ? ` (hint: ${w.hint})` : ""}`);
      process.stdout.write(`${lines.join("\n")}\n`);
    }
    return verdict.valid ? 0 : 1;
  } finally {
    await db.close();
  }
}
