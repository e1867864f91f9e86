/**
 * performanceAnalysis — warnings (never errors) about queries that will be slow or return too much,
 * with a suggestion each.
 *
 * Inputs: the query's analysis (analyzeSql), the schema (for table widths) and, when the validator
 * planned the query, PostgreSQL's `EXPLAIN (FORMAT JSON)` plan (its root `Total Cost` and `Plan Rows`).
 * Heuristics, each one warning code:
 * - `perf_cartesian_join`: a FROM-list or CROSS JOIN pair that no predicate links;
 * - `perf_select_star`: `*` over a table with more than `wideTableColumns` columns (default 8);
 * - `perf_no_limit`: the plan estimates more than `largeResultRows` rows (default 1000) and the outermost
 *   SELECT has no LIMIT;
 * - `perf_non_sargable`: a function or cast applied to a column in WHERE / ON (an index cannot serve it);
 * - `perf_correlated_subquery`: a subquery that references the outer query (runs once per outer row);
 * - `perf_high_cost`: the plan's total cost exceeds `maxTotalCost` (default 1e6).
 *
 * @example
 * const report = analyzePerformance(analyzeSql("SELECT * FROM a, b")!, { schema });
 * report.warnings.map((w) => w.code); // ["perf_cartesian_join", …]
 */
import type { SqlAnalysis } from "./analyzeSql.js";
import type { RuleIssue } from "./businessRules.js";
import { findTable, type SchemaModel } from "./schemaModel.js";

export interface PerformanceOptions {
  schema?: SchemaModel;
  /** `EXPLAIN (FORMAT JSON)` output (the value of its single cell). Default: none (AST heuristics only). */
  plan?: unknown;
  /** Tables with more columns than this are "wide" for SELECT *. Default 8. */
  wideTableColumns?: number;
  /** Estimated rows above which a missing LIMIT is flagged. Default 1000. */
  largeResultRows?: number;
  /** Plan total cost above which the query is flagged. Default 1e6. */
  maxTotalCost?: number;
}

export interface PlanSummary {
  /** Root `Total Cost` (PostgreSQL's arbitrary cost units). */
  totalCost: number;
  /** Root `Plan Rows` (estimated result rows). */
  planRows: number;
  /** Every node type in the plan, depth first. */
  nodeTypes: string[];
}

export interface PerformanceReport {
  plan: PlanSummary | null;
  warnings: RuleIssue[];
}

export const DEFAULT_PERFORMANCE_OPTIONS = { wideTableColumns: 8, largeResultRows: 1000, maxTotalCost: 1e6 } as const;

interface PlanNode {
  "Node Type"?: string;
  "Total Cost"?: number;
  "Plan Rows"?: number;
  Plans?: PlanNode[];
}

/** Reads the root cost and rows of an EXPLAIN (FORMAT JSON) value (parsed or text); null when it is not one. */
export function summarisePlan(explain: unknown): PlanSummary | null {
  let value = explain;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return null;
    }
  }
  const root = (Array.isArray(value) ? value[0] : value) as { Plan?: PlanNode } | undefined;
  const plan = root?.Plan;
  if (plan === undefined || typeof plan["Total Cost"] !== "number") return null;
  const nodeTypes: string[] = [];
  const visit = (node: PlanNode): void => {
    if (node["Node Type"] !== undefined) nodeTypes.push(node["Node Type"]);
    for (const child of node.Plans ?? []) visit(child);
  };
  visit(plan);
  return { totalCost: plan["Total Cost"], planRows: plan["Plan Rows"] ?? 0, nodeTypes };
}

function warning(code: string, message: string, hint: string): RuleIssue {
  return { code, message, hint };
}

/** The performance warnings of one query (see the file comment). */
export function analyzePerformance(analysis: SqlAnalysis, options: PerformanceOptions = {}): PerformanceReport {
  const wide = options.wideTableColumns ?? DEFAULT_PERFORMANCE_OPTIONS.wideTableColumns;
  const large = options.largeResultRows ?? DEFAULT_PERFORMANCE_OPTIONS.largeResultRows;
  const maxCost = options.maxTotalCost ?? DEFAULT_PERFORMANCE_OPTIONS.maxTotalCost;
  const plan = options.plan === undefined ? null : summarisePlan(options.plan);
  const warnings: RuleIssue[] = [];
  for (const pair of analysis.cartesianJoins) {
    warnings.push(
      warning(
        "perf_cartesian_join",
        `${pair.join(" × ")} is a cartesian product: no predicate links ${pair[pair.length - 1]} to the tables before it`,
        `join with ON (e.g. JOIN ${pair[pair.length - 1]} ON <key> = <foreign key>) or add the linking condition to WHERE`,
      ),
    );
  }
  if (analysis.selectStar && options.schema !== undefined) {
    const wideTables = analysis.tables
      .map((t) => findTable(options.schema!, t))
      .filter((t) => t !== undefined && t.columns.length > wide);
    if (wideTables.length > 0) {
      warnings.push(
        warning(
          "perf_select_star",
          `SELECT * returns every column of ${wideTables.map((t) => `${t!.name} (${t!.columns.length} columns)`).join(", ")}`,
          "list only the columns the question needs",
        ),
      );
    }
  }
  if (plan !== null && plan.planRows > large && !analysis.hasLimit) {
    warnings.push(
      warning(
        "perf_no_limit",
        `the plan estimates ${Math.round(plan.planRows)} result rows and the query has no LIMIT`,
        "aggregate, filter, or add LIMIT when the question asks for a few rows",
      ),
    );
  }
  for (const predicate of analysis.nonSargable) {
    warnings.push(
      warning(
        "perf_non_sargable",
        `the predicate on ${predicate} applies a function to a column: an index on the column cannot be used`,
        "compare the bare column with a transformed constant (e.g. a date range instead of EXTRACT(YEAR FROM d) = 2024)",
      ),
    );
  }
  if (analysis.correlatedSubqueries > 0) {
    warnings.push(
      warning(
        "perf_correlated_subquery",
        `${analysis.correlatedSubqueries} correlated subquer${analysis.correlatedSubqueries === 1 ? "y runs" : "ies run"} once per outer row`,
        "rewrite as a JOIN or a grouped subquery / CTE joined once",
      ),
    );
  }
  if (plan !== null && plan.totalCost > maxCost) {
    warnings.push(
      warning(
        "perf_high_cost",
        `the plan's total cost is ${Math.round(plan.totalCost)} (over ${maxCost})`,
        "add selective filters, join on indexed keys, or aggregate earlier",
      ),
    );
  }
  return { plan, warnings };
}
