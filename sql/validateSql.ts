/**
 * validateSql — the public SQL validator: is a generated query safe, well-formed, true to the schema,
 * accepted by PostgreSQL, and faithful to the business rules?
 *
 * Stages, in order (each adds `errors` or `warnings`; errors make `valid` false):
 * 1. safety (`checkSafety`, default-deny, token level): violations are errors `unsafe_<code>`; an unsafe
 *    query stops here and never reaches the database.
 * 2. syntax (`parseSql`, pgsql-ast-parser). When the parser fails and an executor is attached,
 *    PostgreSQL decides: if it plans the query, the query is valid with the warning `parser_unsupported`
 *    (the AST stages are skipped); otherwise the error `syntax_error` carries PostgreSQL's message.
 *    Without an executor a parser failure is the error `syntax_error`.
 * 3. schema, when `schema` is given: `unknown_table`, `unknown_column`, `unknown_alias`,
 *    `ambiguous_column` (a CTE or subquery lacking a column is `unknown_column`), each with a
 *    "did you mean …?" hint — the nearest names in scope by edit distance, or the table that has the column.
 * 4. PostgreSQL planning, when `executor` is given: `EXPLAIN (FORMAT JSON) <sql>` through
 *    `executor.execute` (read-only, sandboxed). A rejection is the error `postgres_rejected` with
 *    PostgreSQL's message and a hint by SQLSTATE (grouping and type errors are found here; a syntax
 *    error is `syntax_error`; a name error the schema stage already reported is not repeated). PostgreSQL is the authority on
 *    names: when it plans a query the schema stage flagged, those findings become warnings.
 * 5. business rules (`businessRules`): warnings. Opt-in — none by default, since rules are about one
 *    database's meaning; the demo database's callers pass DEMO_BUSINESS_RULES (sql/businessRules.ts).
 * 6. performance (`performance`, default true; sql/performanceAnalysis.ts, with the plan of stage 4):
 *    warnings with suggestions.
 * `signal` aborts between stages and the planning call (AbortError). Texts over MAX_SQL_LENGTH are
 * `sql_too_long`; over MAX_AST_TOKENS tokens the AST stages are skipped (PostgreSQL alone decides, or
 * `sql_too_complex` without an executor) so that one call stays under a second.
 *
 * @example
 * const schema = await introspectSchema(db);
 * const result = await validateSql("SELECT nme FROM projects", { schema, executor: db });
 * // { valid: false, errors: [{ code: "unknown_column", message: "column 'nme' does not exist …", hint: "did you mean name?" }], … }
 */
import { AbortError, InputError, isGlRlError } from "../errors.js";
import { analyzeSql, analyzeSqlWithSchema, type SchemaProblem, type SqlAnalysis } from "./analyzeSql.js";
import { checkBusinessRules, type BusinessRule } from "./businessRules.js";
import { parseSql } from "./parseSql.js";
import { analyzePerformance } from "./performanceAnalysis.js";
import { checkSafety, type SafetyPolicy } from "./safetyPolicy.js";
import type { SchemaModel } from "./schemaModel.js";
import type { SqlExecutor } from "./sqlExecutor.js";

export interface ValidationIssue {
  code: string;
  message: string;
  hint?: string;
}

export interface ValidationResult {
  valid: boolean;
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
  /** The analysis of the query when it parsed (with the schema's resolution when one was given). */
  analysis?: SqlAnalysis;
}

export interface ValidateOptions {
  /** Enables the schema stage. */
  schema?: SchemaModel;
  /** Enables PostgreSQL planning (EXPLAIN) and lets PostgreSQL decide where the parser fails. */
  executor?: SqlExecutor;
  /** Safety policy options (allowed functions, catalog access). */
  policy?: SafetyPolicy;
  /** Rules checked as warnings. Default none (`false` or `[]` too); the demo database's are DEMO_BUSINESS_RULES. */
  businessRules?: readonly BusinessRule[] | false;
  /** Performance warnings. Default true. */
  performance?: boolean;
  signal?: AbortSignal;
}

/** Longer texts are refused outright (`sql_too_long`): no generated query needs 100,000 characters. */
export const MAX_SQL_LENGTH = 100_000;
/**
 * pgsql-ast-parser (nearley) takes ~0.2–0.4 ms a token here (BIRD gold: at most 292 tokens): above this many the
 * AST stages are skipped so that one call stays well under a second. PostgreSQL decides when an
 * executor is attached; without one the query is `sql_too_complex`.
 */
export const MAX_AST_TOKENS = 1000;

/** Tokens outside string literals, roughly as a SQL lexer counts them. */
export function countSqlTokens(sql: string): number {
  return (
    sql.replace(/'(?:[^']|'')*'/g, "''").match(/[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*|\d+(?:\.\d+)?|[^\s\w]/g)
      ?.length ?? 0
  );
}

/**
 * The first unterminated quote (`'…`, `"…`, `$tag$…`) outside comments, or null. pgsql-ast-parser's
 * lexer goes exponential on an unterminated dollar quote (a 200-character query took 4 s), so such text
 * never reaches it.
 */
export function findUnterminatedQuote(sql: string): string | null {
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql[i]!;
    if (c === "-" && sql[i + 1] === "-") {
      const end = sql.indexOf("\n", i);
      i = end < 0 ? n : end + 1;
    } else if (c === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      if (end < 0) return "/*";
      i = end + 2;
    } else if (c === "'" || c === '"') {
      const escapes = c === "'" && (sql[i - 1] === "e" || sql[i - 1] === "E");
      let j = i + 1;
      for (;;) {
        if (j >= n) return c;
        if (escapes && sql[j] === "\\") j += 2;
        else if (sql[j] === c) {
          if (sql[j + 1] !== c) break;
          j += 2;
        } else j++;
      }
      i = j + 1;
    } else if (c === "$") {
      // Also after a word character (`where$$`): PostgreSQL reads an identifier there, the parser's lexer a quote.
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 80));
      if (tag === null) i++;
      else {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        if (end < 0) return tag[0];
        i = end + tag[0].length;
      }
    } else i++;
  }
  return null;
}

/** Time limit of the EXPLAIN call, ms. Planning is fast; this only bounds pathological inputs. */
const PLAN_TIMEOUT_MS = 5000;

// ─── did you mean ──────────────────────────────────────────────────────────────────────────────────

/** Levenshtein distance (case-insensitive), stopping early above `limit`. */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  if (Math.abs(s.length - t.length) > limit) return limit + 1;
  let previous = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= t.length; j++) {
      const value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (s[i - 1] === t[j - 1] ? 0 : 1));
      current.push(value);
      rowMin = Math.min(rowMin, value);
    }
    if (rowMin > limit) return limit + 1;
    previous = current;
  }
  return previous[t.length]!;
}

/** The candidates nearest to `name` (at most 3), within a distance that grows with the name's length. */
export function nearestNames(name: string, candidates: readonly string[]): string[] {
  const limit = Math.max(2, Math.floor(name.length / 3));
  const bare = (c: string): string => c.slice(c.lastIndexOf(".") + 1);
  const scored = [...new Set(candidates)]
    .map((c) => {
      const b = bare(c);
      const contains =
        b.length >= 3 &&
        name.length >= 3 &&
        (b.toLowerCase().includes(name.toLowerCase()) || name.toLowerCase().includes(b.toLowerCase()));
      return { c, d: contains ? Math.min(editDistance(name, b, limit), limit) : editDistance(name, b, limit) };
    })
    .filter((x) => x.d <= limit)
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c));
  // Only the nearest: "project" → projects, not also project_assignments.
  return scored
    .filter((x) => x.d === scored[0]!.d)
    .slice(0, 3)
    .map((x) => x.c);
}

function quoteName(name: string): string {
  return name
    .split(".")
    .map((part) => (/^[a-z_][a-z0-9_]*$/.test(part) ? part : `"${part}"`))
    .join(".");
}

/** Tables of the schema that have a column of this name. */
function tablesWithColumn(schema: SchemaModel, column: string): string[] {
  return schema.tables
    .filter((t) => t.columns.some((c) => c.name.toLowerCase() === column.toLowerCase()))
    .map((t) => t.name);
}

function schemaIssue(problem: SchemaProblem, schema: SchemaModel): ValidationIssue {
  const near = nearestNames(problem.bare, problem.candidates);
  let hint: string | undefined;
  if (problem.suggestion !== undefined) hint = `did you mean ${quoteName(problem.suggestion)}?`;
  else if (problem.code === "ambiguous_column") hint = `qualify it: ${problem.candidates.map(quoteName).join(" or ")}`;
  else if (near.length > 0) hint = `did you mean ${near.map(quoteName).join(" or ")}?`;
  else if (problem.derived !== undefined)
    hint = `'${problem.bare}' is not an output column of ${problem.derived}: add it to its select list (it has ${problem.candidates.map(quoteName).join(", ") || "no named columns"})`;
  else if (problem.code === "unknown_column") {
    const owners = tablesWithColumn(schema, problem.bare);
    if (owners.length > 0) hint = `'${problem.bare}' is a column of ${owners.slice(0, 3).join(", ")}: join that table`;
  }
  if (hint === undefined) {
    hint =
      problem.code === "unknown_table"
        ? `known tables: ${schema.tables
            .slice(0, 20)
            .map((t) => t.name)
            .join(", ")}${schema.tables.length > 20 ? ", …" : ""}`
        : problem.code === "unknown_alias"
          ? `use one of the FROM aliases: ${problem.candidates.join(", ") || "(none)"}`
          : "check the column names in the schema";
  }
  return { code: problem.code, message: problem.message, hint };
}

// ─── PostgreSQL ────────────────────────────────────────────────────────────────────────────────────

/** Hints for PostgreSQL errors by SQLSTATE, where the executor's generic hint says little. */
const SQLSTATE_HINTS: Readonly<Record<string, string>> = {
  "42803": "add the column to GROUP BY, or wrap it in an aggregate such as max() or min()",
  "42883":
    "check the function or operator name and its argument types; cast arguments (::numeric, ::text) where types differ",
  "42804": "cast one side so both have the same type (e.g. ::numeric, ::date, ::text)",
  "42P01": "check the table name against the schema",
  "42703": "check the column name against the schema",
  "42702": "qualify the column with its table alias",
  "22P02": "a literal does not fit the column's type: fix the literal or cast",
  "42601": "fix the syntax near the position PostgreSQL names",
};

/** SQLSTATEs of unknown / ambiguous names: the schema stage's findings already explain these. */
const NAME_SQLSTATES = new Set(["42P01", "42703", "42702"]);

type PlanOutcome =
  | { ok: true; plan: unknown }
  | { ok: false; issue: ValidationIssue; timeout: boolean; nameError: boolean };

/** Drops trailing `;` and whitespace (a loop: the regex /[\s;]+$/ is quadratic on long blank runs). */
function stripTrailingSemicolons(sql: string): string {
  let end = sql.length;
  while (end > 0 && (sql[end - 1] === ";" || /\s/.test(sql[end - 1]!))) end--;
  return sql.slice(0, end);
}

/** PostgreSQL's message without the executor's `<description>: ` prefix and SQLSTATE suffix. */
function postgresMessage(message: string, description: string): string {
  const bare = message.startsWith(`${description}: `) ? message.slice(description.length + 2) : message;
  return bare.replace(/ \(SQLSTATE \w+\)$/, "");
}

async function planQuery(sql: string, executor: SqlExecutor, signal: AbortSignal | undefined): Promise<PlanOutcome> {
  try {
    const result = await executor.execute(`EXPLAIN (FORMAT JSON) ${stripTrailingSemicolons(sql)}`, {
      timeoutMs: PLAN_TIMEOUT_MS,
      maxRows: 10,
      ...(signal ? { signal } : {}),
    });
    return { ok: true, plan: result.rows[0]?.[0] };
  } catch (error) {
    if (!isGlRlError(error) || error.name === "AbortError") throw error;
    const timeout = error.name === "TimeoutError";
    const message = postgresMessage(error.message, executor.description);
    return {
      ok: false,
      timeout,
      nameError: NAME_SQLSTATES.has(String(error.context.sqlstate)),
      issue: timeout
        ? {
            code: "postgres_timeout",
            message: `PostgreSQL did not plan the query within ${PLAN_TIMEOUT_MS} ms`,
            hint: "simplify the query",
          }
        : {
            code: error.context.sqlstate === "42601" ? "syntax_error" : "postgres_rejected",
            message: `PostgreSQL rejected the query: ${message}`,
            hint:
              SQLSTATE_HINTS[String(error.context.sqlstate)] ??
              error.hint ??
              "fix the query as PostgreSQL's message says",
          },
    };
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError("validateSql was aborted");
}

// ─── the validator ─────────────────────────────────────────────────────────────────────────────────

/** Validates one SQL text through the stages of the file comment. Throws only for non-string input and aborts. */
export async function validateSql(sql: string, options: ValidateOptions = {}): Promise<ValidationResult> {
  if (typeof sql !== "string")
    throw new InputError(`validateSql needs a SQL string, got ${sql === null ? "null" : typeof sql}`, {
      hint: 'pass the SQL text, e.g. validateSql("SELECT 1")',
    });
  const { schema, executor, signal } = options;
  throwIfAborted(signal);
  const errors: ValidationIssue[] = [];
  const warnings: ValidationIssue[] = [];
  const done = (analysis?: SqlAnalysis): ValidationResult => ({
    valid: errors.length === 0,
    errors,
    warnings,
    ...(analysis ? { analysis } : {}),
  });

  if (sql.length > MAX_SQL_LENGTH) {
    errors.push({
      code: "sql_too_long",
      message: `the SQL text has ${sql.length} characters (at most ${MAX_SQL_LENGTH})`,
      hint: "generate a shorter query: aggregate or filter instead of listing values",
    });
    return done();
  }

  // 1. safety
  const safety = checkSafety(sql, options.policy);
  if (!safety.safe) {
    for (const v of safety.violations) errors.push({ code: `unsafe_${v.code}`, message: v.message, hint: v.hint });
    return done();
  }

  // 2. syntax (a text too long for the parser goes to PostgreSQL alone)
  const tokens = countSqlTokens(sql);
  if (tokens > MAX_AST_TOKENS) {
    if (executor === undefined) {
      errors.push({
        code: "sql_too_complex",
        message: `the SQL has ${tokens} tokens: too many to check without a database (at most ${MAX_AST_TOKENS})`,
        hint: "attach an executor so PostgreSQL can check it, or simplify the query",
      });
      return done();
    }
    const planned = await planQuery(sql, executor, signal);
    if (planned.ok)
      warnings.push({
        code: "ast_checks_skipped",
        message: `the SQL has ${tokens} tokens; only PostgreSQL checked it`,
        hint: "schema, business-rule and AST performance checks were skipped",
      });
    else errors.push(planned.issue);
    return done();
  }
  const unterminated = findUnterminatedQuote(sql);
  const parsed = unterminated === null ? parseSql(sql) : null;
  if (parsed === null || parsed.error !== null || parsed.ast === null) {
    const parserMessage =
      parsed === null
        ? `unterminated ${unterminated} quote or comment`
        : (parsed.error ?? `expected one statement, found ${parsed.statementCount}`);
    if (executor === undefined) {
      errors.push({
        code: "syntax_error",
        message: `the SQL does not parse: ${parserMessage}`,
        hint: "fix the syntax near the position the message names",
      });
      return done();
    }
    const planned = await planQuery(sql, executor, signal);
    if (planned.ok) {
      warnings.push({
        code: "parser_unsupported",
        message: `pgsql-ast-parser cannot read this query (${parserMessage}); PostgreSQL planned it`,
        hint: "schema, business-rule and AST performance checks were skipped",
      });
      if (options.performance !== false)
        warnings.push(...analyzePerformance(emptyAnalysis(), { plan: planned.plan }).warnings);
    } else errors.push(planned.issue);
    return done();
  }

  // 3. schema
  throwIfAborted(signal);
  const analysed = analyzeSqlWithSchema(parsed, schema);
  const schemaIssues =
    schema !== undefined && analysed !== null ? analysed.problems.map((p) => schemaIssue(p, schema)) : [];
  const analysis = analysed?.analysis ?? analyzeSql(parsed) ?? undefined;

  // 4. PostgreSQL
  let plan: unknown;
  if (executor !== undefined) {
    const planned = await planQuery(sql, executor, signal);
    if (planned.ok) {
      plan = planned.plan;
      for (const issue of schemaIssues)
        warnings.push({ ...issue, message: `${issue.message} (PostgreSQL planned the query anyway)` });
    } else {
      errors.push(...schemaIssues);
      // A name error the schema stage already explained needs no second message from PostgreSQL.
      if (schemaIssues.length === 0 || !planned.nameError) errors.push(planned.issue);
    }
  } else errors.push(...schemaIssues);

  // 5. business rules, 6. performance
  throwIfAborted(signal);
  if (analysis !== undefined) {
    const rules = options.businessRules || [];
    warnings.push(...checkBusinessRules(analysis, sql, rules));
    if (options.performance !== false)
      warnings.push(...analyzePerformance(analysis, { ...(schema ? { schema } : {}), plan }).warnings);
  }
  return done(analysis);
}

function emptyAnalysis(): SqlAnalysis {
  return {
    tables: [],
    columns: [],
    joins: [],
    aggregates: [],
    literals: [],
    hasOrderBy: false,
    hasLimit: true,
    selectStar: false,
    cteNames: [],
    cartesianJoins: [],
    nonSargable: [],
    correlatedSubqueries: 0,
  };
}
