/**
 * businessRules — declarative domain rules a query should obey, shared by the validator (warnings) and
 * the business-rule reward (compliance against the gold query).
 *
 * A rule is `{ id, description, applies(analysis, sql), check(analysis, sql) → issue | null }`:
 * `applies` says the query concerns the rule (it sums journal lines, totals invoices…); `check` returns
 * an issue when the query breaks it and null when it obeys. `check` is also meaningful where the rule
 * does not apply: it then fails when the query lacks what the rule asks for (the reward uses this to
 * score a candidate against a gold query the rule applies to).
 *
 * GL defaults (data/schema.sql): ledger totals count posted entries only; SUM(debit - credit) across
 * account types mixes normal balances; void invoices / vendor bills are excluded from totals; payroll
 * and headcount aggregates filter employee status; ledger amounts come from journal_lines debit/credit.
 * Rules are opt-in: the validator checks none unless given some; the demo database's callers (`gl-rl ask`
 * and `gl-rl validate` on `--db demo`) pass these. Users pass their own with `validateSql(sql, { businessRules })`.
 *
 * @example
 * const analysis = analyzeSql("SELECT sum(debit) FROM journal_lines")!;
 * checkBusinessRules(analysis, "SELECT sum(debit) FROM journal_lines", DEMO_BUSINESS_RULES); // [{ code: "rule_posted_entries_only", … }]
 */
import type { SqlAnalysis } from "./analyzeSql.js";
import { parseDatabaseSpec } from "./openDatabase.js";

/** A finding of the validator (same shape as validateSql's). */
export interface RuleIssue {
  code: string;
  message: string;
  hint?: string;
}

export interface BusinessRule {
  /** Stable id; the issue code is `rule_<id>`. */
  readonly id: string;
  readonly description: string;
  /** Does the query concern this rule? */
  applies(analysis: SqlAnalysis, sql: string): boolean;
  /** An issue when the query breaks the rule, else null. */
  check(analysis: SqlAnalysis, sql: string): RuleIssue | null;
}

// ─── predicates over an analysis ───────────────────────────────────────────────────────────────────

/** The query uses `table.column` (any case); a column whose table could not be told counts by name. */
export function usesColumn(analysis: SqlAnalysis, table: string, column: string): boolean {
  return analysis.columns.some(
    (c) => (c.table === null || c.table.toLowerCase() === table) && c.column.toLowerCase() === column,
  );
}

function usesTable(analysis: SqlAnalysis, table: string): boolean {
  return analysis.tables.some((t) => t.toLowerCase() === table);
}

/** An aggregate call whose text matches. */
function aggregates(analysis: SqlAnalysis, pattern: RegExp): boolean {
  return analysis.aggregates.some((a) => pattern.test(a));
}

const sumsLedger = (a: SqlAnalysis): boolean => usesTable(a, "journal_lines") && aggregates(a, /\b(debit|credit)\b/);
const NETS_DEBIT_CREDIT = /\bsum\(.*\b(debit\s*-\s*[\w.]*credit|credit\s*-\s*[\w.]*debit)\b/;
const mentionsVoid = (a: SqlAnalysis): boolean =>
  a.literals.some((l) => typeof l === "string" && l.toLowerCase() === "void");
const DOCUMENT_TABLES = ["invoices", "vendor_bills"];

function issue(id: string, message: string, hint: string): RuleIssue {
  return { code: `rule_${id}`, message, hint };
}

// ─── the GL defaults ───────────────────────────────────────────────────────────────────────────────

/** Rules of the demo general ledger (data/schema.sql). */
export const DEMO_BUSINESS_RULES: readonly BusinessRule[] = [
  {
    id: "posted_entries_only",
    description: "ledger totals (sums over journal_lines debit/credit) count posted journal entries only",
    applies: sumsLedger,
    check: (a) =>
      usesColumn(a, "journal_entries", "posted")
        ? null
        : issue(
            "posted_entries_only",
            "the query sums journal_lines amounts without filtering posted entries: drafts would count in the total",
            "JOIN journal_entries je ON je.entry_id = jl.entry_id and add WHERE je.posted",
          ),
  },
  {
    id: "debit_credit_sign",
    description: "SUM(debit - credit) nets normal balances: it must be split or filtered by account type",
    applies: (a) => aggregates(a, NETS_DEBIT_CREDIT),
    check: (a) =>
      usesColumn(a, "gl_accounts", "account_type")
        ? null
        : issue(
            "debit_credit_sign",
            "SUM(debit - credit) over every account mixes signs: assets/expenses are debit-normal, liabilities/equity/revenue credit-normal",
            "join gl_accounts and filter or GROUP BY account_type (revenue = SUM(credit - debit), expense = SUM(debit - credit))",
          ),
  },
  {
    id: "void_documents_excluded",
    description: "void invoices and vendor bills are excluded from totals and counts",
    applies: (a) => mentionsVoid(a) || (DOCUMENT_TABLES.some((t) => usesTable(a, t)) && a.aggregates.length > 0),
    check: (a) =>
      mentionsVoid(a)
        ? null
        : issue(
            "void_documents_excluded",
            "the query aggregates invoices or vendor bills without excluding void documents",
            "add WHERE status <> 'void'",
          ),
  },
  {
    id: "employee_status",
    description:
      "payroll and headcount aggregates over employees filter on status (terminated employees are not staff)",
    applies: (a) =>
      usesTable(a, "employees") &&
      (usesColumn(a, "employees", "status") || (a.aggregates.length > 0 && usesColumn(a, "employees", "salary"))),
    check: (a) =>
      usesColumn(a, "employees", "status")
        ? null
        : issue(
            "employee_status",
            "the query aggregates employee salaries without filtering on status: terminated employees are included",
            "add WHERE status = 'active' (or status <> 'terminated')",
          ),
  },
  {
    id: "ledger_amounts",
    description: "ledger amounts come from journal_lines debit/credit, not from invoice or bill amounts",
    applies: (a) => usesColumn(a, "journal_lines", "debit") || usesColumn(a, "journal_lines", "credit"),
    check: (a) =>
      usesColumn(a, "journal_lines", "debit") || usesColumn(a, "journal_lines", "credit")
        ? null
        : issue(
            "ledger_amounts",
            "the query does not read ledger amounts (journal_lines.debit / credit)",
            "sum journal_lines.debit and credit for ledger balances",
          ),
  },
];

/** The issues of every rule that applies to the query. */
/**
 * The rules a database gets when the caller names none: business rules are about one database's meaning, so
 * they are opt-in — the demo database (spec "demo") gets its GL rules, every other database none.
 * @example
 * defaultBusinessRules("demo");               // DEMO_BUSINESS_RULES
 * defaultBusinessRules("postgres://…/erp");   // []
 */
export function defaultBusinessRules(databaseSpec: string | undefined): readonly BusinessRule[] {
  return parseDatabaseSpec(databaseSpec).kind === "demo" ? DEMO_BUSINESS_RULES : [];
}

export function checkBusinessRules(analysis: SqlAnalysis, sql: string, rules: readonly BusinessRule[]): RuleIssue[] {
  const issues: RuleIssue[] = [];
  for (const rule of rules) {
    if (!rule.applies(analysis, sql)) continue;
    const found = rule.check(analysis, sql);
    if (found !== null) issues.push(found);
  }
  return issues;
}
