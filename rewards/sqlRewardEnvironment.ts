/**
 * The SQL toolkit wired into the reward pipeline's `RewardEnvironment` (rewards/prepareRewardSamples.ts),
 * for the trainers and evaluation against a live database:
 *
 *   schema         introspected once from the database (sql/schemaModel.ts `introspectSchema`)
 *   validate(sql)  sql/validateSql.ts with the schema, without planning (the candidate is executed next
 *                  anyway), business-rule and performance stages off (rewards score those themselves):
 *                    refused     = a safety error (`unsafe_*`, `sql_too_long`)
 *                    syntaxValid = no `syntax_error` / `sql_too_complex`
 *                    schemaValid = syntax valid and no unknown table / column / alias, no ambiguous column
 *   analyze(sql)   sql/analyzeSql.ts `createSchemaItemsAnalyzer`: `table` and `table.column` items, lower-cased
 *   match          docs/execution-match.md (sql/executionMatch.ts `executionMatchComplete`), ordered iff the
 *                  gold query's outermost SELECT has ORDER BY; a cut (truncated) result is executed again up to
 *                  COMPLETE_RESULT_MAX_ROWS rows (the gold's once, cached) so that no verdict rests on partial rows
 *
 * @example
 * const env = await createSqlRewardEnvironment(await openDatabase("demo"));
 * const samples = await prepareRewardSamples([{ question, completion, sql, goldSql }], env);
 */
import type { RewardEnvironment } from "./prepareRewardSamples.js";
import type { SampleValidation } from "./rewardSample.js";
import { createSchemaItemsAnalyzer } from "../sql/analyzeSql.js";
import { executeComplete, executionMatchComplete, hasOuterOrderBy } from "../sql/executionMatch.js";
import { parseSql } from "../sql/parseSql.js";
import { introspectSchema, type SchemaModel } from "../sql/schemaModel.js";
import type { ExecuteOptions, ExecutionOutcome, SqlExecutor } from "../sql/sqlExecutor.js";
import { validateSql } from "../sql/validateSql.js";

const SCHEMA_ERRORS = new Set(["unknown_table", "unknown_column", "unknown_alias", "ambiguous_column"]);
const SYNTAX_ERRORS = new Set(["syntax_error", "sql_too_complex", "sql_too_long"]);

/**
 * The reward pipeline's verdict on a candidate query, from sql/validateSql.ts.
 * @example
 * await validateCandidate("SELECT nme FROM projects", schema); // { syntaxValid: true, schemaValid: false, refused: false, errors: ["unknown_column: …"] }
 */
export async function validateCandidate(sql: string, schema: SchemaModel): Promise<SampleValidation> {
  const result = await validateSql(sql, { schema, businessRules: false, performance: false });
  const codes = result.errors.map((e) => e.code);
  const refused = codes.some((c) => c.startsWith("unsafe_") || c === "sql_too_long");
  const syntaxValid = !codes.some((c) => SYNTAX_ERRORS.has(c)) && (!refused || parseSql(sql).ast !== null);
  return {
    syntaxValid,
    schemaValid: syntaxValid && !codes.some((c) => SCHEMA_ERRORS.has(c)),
    refused,
    errors: result.errors.map((e) => `${e.code}: ${e.message}`),
  };
}

/** The RewardEnvironment for a live database; the schema is introspected once. */
export async function createSqlRewardEnvironment(
  executor: Pick<SqlExecutor, "execute"> & Partial<Pick<SqlExecutor, "description">>,
  executeOptions?: ExecuteOptions,
): Promise<RewardEnvironment> {
  const schema = await introspectSchema({
    execute: (sql, options) => executor.execute(sql, options),
    description: executor.description ?? "the database",
  });
  const completeGold = new Map<string, Promise<ExecutionOutcome>>();
  return {
    executor,
    validate: (sql) => validateCandidate(sql, schema),
    analyze: createSchemaItemsAnalyzer(schema),
    match: async (gold, candidate, goldSql, candidateSql) => {
      const complete = (which: "gold" | "candidate"): Promise<ExecutionOutcome> => {
        if (which === "candidate") return executeComplete(executor, candidateSql, executeOptions);
        let entry = completeGold.get(goldSql);
        if (entry === undefined) {
          entry = executeComplete(executor, goldSql, executeOptions);
          completeGold.set(goldSql, entry);
        }
        return entry;
      };
      const verdict = await executionMatchComplete(
        { ok: true, result: gold },
        { ok: true, result: candidate },
        { ordered: hasOuterOrderBy(goldSql), complete },
      );
      return verdict.match;
    },
    ...(executeOptions === undefined ? {} : { executeOptions }),
  };
}
