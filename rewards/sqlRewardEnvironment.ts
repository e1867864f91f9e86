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
 *   compare        the same on complete results, then on the test suite (sql/testSuiteMatch.ts): K seeded
 *                  variants of the database (sql/databaseVariants.ts, built on first use, once per database,
 *                  closed with it), the gold cached per (variant, SQL); `suite` K = DEFAULT_SUITE_SIZE (3) for a
 *                  PGlite or PostgreSQL executor, 0 (no suite) for anything else or when asked
 *
 * @example
 * const env = await createSqlRewardEnvironment(await openDatabase("demo"));
 * const samples = await prepareRewardSamples([{ question, completion, sql, goldSql }], env);
 */
import type { RewardEnvironment, SampleComparison } from "./prepareRewardSamples.js";
import type { SampleValidation } from "./rewardSample.js";
import { createSchemaItemsAnalyzer } from "../sql/analyzeSql.js";
import { InputError } from "../errors.js";
import {
  canBuildVariants,
  DEFAULT_SUITE_SIZE,
  databaseVariants,
  type DatabaseVariants,
} from "../sql/databaseVariants.js";
import { executeComplete, executionMatch, executionMatchComplete, hasOuterOrderBy } from "../sql/executionMatch.js";
import { completeOutcome, runOnSuite, testSuiteVerdict } from "../sql/testSuiteMatch.js";
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

export interface SqlRewardEnvironmentOptions {
  /**
   * Variants in the test suite: default DEFAULT_SUITE_SIZE (3) when the executor can build them (a PGlite or
   * PostgreSQL executor), else 0; 0 compares on the database alone (EX).
   */
  suite?: number;
  /** Seed of the variants; default DEFAULT_SUITE_SEED. */
  seed?: number;
}

/** The environment plus the size of its test suite (0: none). */
export type SqlRewardEnvironment = RewardEnvironment & { readonly suiteSize: number };

/** The RewardEnvironment for a live database; the schema is introspected once, the variants built on first use. */
export async function createSqlRewardEnvironment(
  executor: Pick<SqlExecutor, "execute"> & Partial<Pick<SqlExecutor, "description">>,
  executeOptions?: ExecuteOptions,
  options: SqlRewardEnvironmentOptions = {},
): Promise<SqlRewardEnvironment> {
  const suiteSize = options.suite ?? (canBuildVariants(executor) ? DEFAULT_SUITE_SIZE : 0);
  if (!Number.isInteger(suiteSize) || suiteSize < 0)
    throw new InputError(`test suite size must be a whole number ≥ 0, got ${options.suite}`, {
      hint: "pass suite 3 (variants of the database) or 0 (the database alone)",
    });
  if (suiteSize > 0 && !canBuildVariants(executor))
    throw new InputError(
      `a test suite needs a PGlite or PostgreSQL executor; ${executor.description ?? "this one"} cannot build variants`,
      {
        hint: "open the database with openDatabase(), or pass suite 0",
      },
    );
  const schema = await introspectSchema({
    execute: (sql, options) => executor.execute(sql, options),
    description: executor.description ?? "the database",
  });
  const completeGold = new Map<string, Promise<ExecutionOutcome>>();
  const goldComplete = (goldSql: string, first?: ExecutionOutcome): Promise<ExecutionOutcome> => {
    let entry = completeGold.get(goldSql);
    if (entry === undefined) {
      entry = completeOutcome(executor, goldSql, executeOptions, first);
      completeGold.set(goldSql, entry);
    }
    return entry;
  };
  let variants: Promise<DatabaseVariants> | undefined;
  const suite = (): Promise<DatabaseVariants> | undefined => {
    if (suiteSize === 0 || !canBuildVariants(executor)) return undefined;
    variants ??= databaseVariants(executor as SqlExecutor, {
      k: suiteSize,
      ...(options.seed === undefined ? {} : { seed: options.seed }),
    });
    return variants;
  };
  return {
    executor,
    suiteSize,
    validate: (sql) => validateCandidate(sql, schema),
    analyze: createSchemaItemsAnalyzer(schema),
    match: async (gold, candidate, goldSql, candidateSql) => {
      const verdict = await executionMatchComplete(
        { ok: true, result: gold },
        { ok: true, result: candidate },
        {
          ordered: hasOuterOrderBy(goldSql),
          complete: (which) =>
            // Asked only for a cut gold: the capped run is in hand, only the complete one runs (once, cached).
            which === "gold"
              ? goldComplete(goldSql, { ok: true, result: gold })
              : executeComplete(executor, candidateSql, executeOptions),
        },
      );
      return verdict.match;
    },
    compare: async (goldSql, candidateSql, gold, candidate) => {
      const [g, c] = await Promise.all([
        gold.result.truncated ? goldComplete(goldSql, gold) : gold,
        completeOutcome(executor, candidateSql, executeOptions, candidate),
      ]);
      const ordered = hasOuterOrderBy(goldSql);
      const out: SampleComparison = {
        ...(g === gold ? {} : { completeGoldExecution: g }),
        ...(c === candidate ? {} : { completeExecution: c }),
      };
      const pending = suite();
      if (pending === undefined) {
        out.match = executionMatch(g, c, { ordered }).match;
        if (g.ok && g.result.rowCount === 0) out.goldUninformative = true;
        return out;
      }
      const runs = c.ok ? (await runOnSuite(await pending, goldSql, candidateSql, executeOptions)).compared : [];
      const verdict = testSuiteVerdict({ gold: g, candidate: c }, runs, ordered);
      out.match = verdict.realMatch;
      out.suiteMatch = verdict.match;
      out.variants = runs;
      if (!verdict.informative) out.goldUninformative = true;
      if (verdict.ignoresData) out.ignoresData = true;
      return out;
    },
    ...(executeOptions === undefined ? {} : { executeOptions }),
  };
}
