/**
 * analyzeSql — what a parsed query uses: tables, columns (resolved to their table), joins, aggregates,
 * literals and a few shape facts; with a schema, also every name it cannot resolve (the schema stage of
 * the validator).
 *
 * Algorithm (one walk over the pgsql-ast-parser AST, PostgreSQL's name resolution):
 * 1. A statement opens a scope: WITH bindings become CTEs (visible to later bindings and the body); FROM
 *    items become sources, left to right — a base table (its columns from the schema, or unknown), a CTE
 *    or subquery (its output columns), a function call (unknown columns unless aliased `f(a, b)`).
 *    A LATERAL subquery sees the sources before it; JOIN … USING (c) checks c on both sides and makes
 *    the unqualified c unambiguous.
 * 2. Expressions are walked generically; a `ref` resolves:
 *    - `q.c`: the innermost source named q (alias, else table name) in this scope or an outer one, then
 *      its column c — `unknown_alias` / `unknown_column` when either is missing;
 *    - `c`: the innermost scope with a source that has c; two sources there → `ambiguous_column`; a scope
 *      with a source of unknown columns stops the search (no verdict); in ORDER BY / GROUP BY an output
 *      alias also counts. A ref found only in an outer scope from a subquery makes it correlated.
 *    Subqueries in expressions are statements walked with the current scope as parent.
 * 3. Columns of CTEs/subqueries resolve to the base column they pass through (`sub.x` → `t.x`); computed
 *    outputs are not schema columns and are not listed.
 * Problems carry the names a "did you mean" hint can pick from (`candidates`).
 *
 * @example
 * analyzeSql("SELECT p.name FROM projects p JOIN customers c USING (customer_id)")!.columns;
 * // [{ table: "customers", column: "customer_id" }, { table: "projects", column: "customer_id" }, { table: "projects", column: "name" }]
 */
import {
  toSql,
  type Expr,
  type From,
  type SelectedColumn,
  type SelectFromStatement,
  type SelectStatement,
  type Statement,
} from "pgsql-ast-parser";
import { parseSql, type ParsedSql } from "./parseSql.js";
import { findTable, type SchemaModel, type SchemaTable } from "./schemaModel.js";

export interface SqlColumnUse {
  /** The base table the column belongs to; null when it cannot be told (no schema, several candidates). */
  table: string | null;
  column: string;
}

export interface SqlJoin {
  /** `INNER JOIN`, `LEFT JOIN`, `RIGHT JOIN`, `FULL JOIN`, `CROSS JOIN`, or `,` for a FROM list. */
  type: string;
  /** The left and right sides (table names, or aliases of subqueries / functions). */
  tables: string[];
  /** The ON condition as SQL, `USING (a, b)`, or null. */
  condition: string | null;
}

export interface SqlAnalysis {
  /** Base tables, in order of first use (CTE names excluded). */
  tables: string[];
  /** Distinct base columns used anywhere. */
  columns: SqlColumnUse[];
  joins: SqlJoin[];
  /** Aggregate calls, lower-cased SQL (`sum(jl.debit - jl.credit)`), in order. */
  aggregates: string[];
  /** String and number literals, in order. */
  literals: (string | number)[];
  /** The outermost SELECT has ORDER BY. */
  hasOrderBy: boolean;
  /** The outermost SELECT has LIMIT / FETCH. */
  hasLimit: boolean;
  /** A `*` or `t.*` appears in a select list (not `count(*)`). */
  selectStar: boolean;
  cteNames: string[];
  /** FROM-list / CROSS joins whose sides no WHERE or ON equality links (cartesian products). */
  cartesianJoins: string[][];
  /** Predicates that apply a function or cast to a column (`lower(name) = 'x'`): they cannot use an index. */
  nonSargable: string[];
  /** Subqueries in expressions that reference an outer query's columns. */
  correlatedSubqueries: number;
}

export type SchemaProblemCode = "unknown_table" | "unknown_column" | "unknown_alias" | "ambiguous_column";

/** A name the schema stage could not resolve. */
export interface SchemaProblem {
  code: SchemaProblemCode;
  message: string;
  /** The name as written (`t.c`, `c`, `tbl`). */
  name: string;
  /** The bare wrong name (`c`, `tbl`), for edit distance. */
  bare: string;
  /** Names that were in scope: a did-you-mean hint picks the nearest. */
  candidates: string[];
  /** A fix known for certain (`p.name` for `projects.name` when projects is aliased p). */
  suggestion?: string;
  /** The CTE / subquery that lacks the column (`CTE t`). */
  derived?: string;
}

/** A column a source exposes; `origin` is the base column it passes through, if any. */
interface SourceColumn {
  name: string;
  origin: SqlColumnUse | null;
}

interface Source {
  /** The name the query uses for it (alias, else table name). */
  alias: string;
  kind: "table" | "cte" | "subquery" | "function";
  /** Base table name (kind table). */
  table?: string;
  /** Known columns; null when unknown (no schema, function, `*` over unknown). */
  columns: SourceColumn[] | null;
}

interface Scope {
  sources: Source[];
  parent: Scope | null;
  /** Column names made unambiguous by JOIN … USING. */
  merged: Set<string>;
  /** Output aliases (ORDER BY / GROUP BY may name them). */
  outputs: Set<string>;
  /** Set when a ref resolved to an outer scope (for correlated-subquery counting). */
  usedOuter: boolean;
}

interface Context {
  schema: SchemaModel | undefined;
  tables: string[];
  columns: Map<string, SqlColumnUse>;
  joins: SqlJoin[];
  aggregates: string[];
  literals: (string | number)[];
  selectStar: boolean;
  cteNames: string[];
  cartesianJoins: string[][];
  nonSargable: string[];
  correlated: number;
  problems: SchemaProblem[];
}

const AGGREGATES = new Set([
  "count",
  "sum",
  "avg",
  "min",
  "max",
  "string_agg",
  "array_agg",
  "json_agg",
  "jsonb_agg",
  "bool_and",
  "bool_or",
  "every",
  "stddev",
  "stddev_pop",
  "stddev_samp",
  "variance",
  "var_pop",
  "var_samp",
  "percentile_cont",
  "percentile_disc",
  "mode",
  "corr",
  "covar_pop",
  "covar_samp",
  "regr_slope",
  "regr_intercept",
  "bit_and",
  "bit_or",
  "json_object_agg",
  "jsonb_object_agg",
]);
const STATEMENT_TYPES = new Set(["select", "union", "union all", "values", "with", "with recursive"]);
const COMPARISONS = new Set([
  "=",
  "<>",
  "!=",
  "<",
  ">",
  "<=",
  ">=",
  "LIKE",
  "ILIKE",
  "NOT LIKE",
  "NOT ILIKE",
  "IN",
  "NOT IN",
]);

// ─── helpers ───────────────────────────────────────────────────────────────────────────────────────

function sameName(a: string, b: string): boolean {
  return a === b || a.toLowerCase() === b.toLowerCase();
}

/** Compact SQL text of an expression (pgsql-ast-parser's toSql spaces and parenthesises generously). */
export function exprSql(expr: Expr): string {
  let text: string;
  try {
    text = toSql.expr(expr);
  } catch {
    return "?";
  }
  text = text
    .replace(/\s+/g, " ")
    .replace(/ \./g, ".")
    .replace(/\( /g, "(")
    .replace(/ \)/g, ")")
    .replace(/(\w) \(/g, "$1(")
    .trim();
  while (text.startsWith("(") && closingParen(text, 0) === text.length - 1) text = text.slice(1, -1).trim();
  // Doubled parentheses `((x))` → `(x)`.
  for (let i = text.indexOf("(("); i >= 0; i = text.indexOf("((", i + 1)) {
    const close = closingParen(text, i + 1);
    if (close > 0 && text[close + 1] === ")") {
      text = text.slice(0, i + 1) + text.slice(i + 2, close) + text.slice(close + 1);
      i--;
    }
  }
  return text;
}

function closingParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === "(") depth++;
    else if (text[i] === ")" && --depth === 0) return i;
  }
  return -1;
}

function hasColumn(source: Source, name: string): SourceColumn | undefined {
  return source.columns?.find((c) => c.name === name) ?? source.columns?.find((c) => sameName(c.name, name));
}

function recordColumn(ctx: Context, use: SqlColumnUse): void {
  const key = `${use.table ?? ""}.${use.column}`;
  if (!ctx.columns.has(key)) ctx.columns.set(key, use);
}

function allScopes(scope: Scope | null): Scope[] {
  const out: Scope[] = [];
  for (let s = scope; s !== null; s = s.parent) out.push(s);
  return out;
}

function newScope(parent: Scope | null): Scope {
  return { sources: [], parent, merged: new Set(), outputs: new Set(), usedOuter: false };
}

/** True when the expression contains a column reference (not descending into subqueries). */
function containsRef(node: unknown): boolean {
  if (node === null || typeof node !== "object") return false;
  if (Array.isArray(node)) return node.some(containsRef);
  const type = (node as { type?: unknown }).type;
  if (type === "ref") return (node as { name: string }).name !== "*";
  if (typeof type === "string" && STATEMENT_TYPES.has(type)) return false;
  return Object.values(node).some(containsRef);
}

/** Aliases of the sources that an expression's qualified refs name. */
function qualifiers(node: unknown, out: Set<string> = new Set()): Set<string> {
  if (node === null || typeof node !== "object") return out;
  if (Array.isArray(node)) {
    for (const item of node) qualifiers(item, out);
    return out;
  }
  const n = node as { type?: unknown; table?: { name: string } };
  if (n.type === "ref" && n.table !== undefined) out.add(n.table.name.toLowerCase());
  else for (const value of Object.values(node)) qualifiers(value, out);
  return out;
}

// ─── name resolution ───────────────────────────────────────────────────────────────────────────────

function problem(
  ctx: Context,
  code: SchemaProblemCode,
  name: string,
  bare: string,
  message: string,
  candidates: Iterable<string>,
  extra: Pick<SchemaProblem, "suggestion" | "derived"> = {},
): void {
  if (ctx.problems.some((p) => p.code === code && p.name === name)) return;
  ctx.problems.push({ code, name, bare, message, candidates: [...new Set(candidates)], ...extra });
}

function sourceLabel(source: Source): string {
  if (source.kind === "cte") return `CTE ${source.alias}`;
  if (source.kind === "subquery") return `subquery ${source.alias}`;
  if (source.kind === "function") return `function ${source.alias}`;
  return source.table === source.alias ? `table ${source.alias}` : `${source.alias} (table ${source.table})`;
}

/** A column found in a source: records its base origin. */
function useColumn(ctx: Context, source: Source, column: SourceColumn | undefined, name: string): SqlColumnUse | null {
  if (source.kind === "table") {
    const use = { table: source.table!, column: column?.name ?? name };
    recordColumn(ctx, use);
    return use;
  }
  if (column?.origin) {
    recordColumn(ctx, column.origin);
    return column.origin;
  }
  return null;
}

function resolveQualified(
  ctx: Context,
  scope: Scope,
  qualifier: string,
  name: string,
  isStar: boolean,
): SqlColumnUse | null {
  const scopes = allScopes(scope);
  for (const [depth, s] of scopes.entries()) {
    const source = s.sources.find((x) => x.alias === qualifier) ?? s.sources.find((x) => sameName(x.alias, qualifier));
    if (source === undefined) continue;
    if (depth > 0) scope.usedOuter = true;
    if (isStar) return null;
    if (source.columns === null) return useColumn(ctx, source, undefined, name);
    const column = hasColumn(source, name);
    if (column === undefined) {
      problem(
        ctx,
        "unknown_column",
        `${qualifier}.${name}`,
        name,
        `column ${qualifier}.${name} does not exist: ${sourceLabel(source)} has no column '${name}'`,
        source.columns.map((c) => c.name),
        source.kind === "table" ? {} : { derived: sourceLabel(source) },
      );
      return null;
    }
    return useColumn(ctx, source, column, name);
  }
  // A schema-qualified table name used as qualifier (`public.t.c`) or a table named without its alias.
  const known = scopes.flatMap((s) => s.sources.map((x) => x.alias));
  const byTable = scopes
    .flatMap((s) => s.sources)
    .find((x) => x.kind === "table" && x.table !== undefined && sameName(x.table, qualifier));
  const hint = byTable
    ? ` (the table ${byTable.table} is aliased '${byTable.alias}' here: use ${byTable.alias}.${name})`
    : "";
  problem(
    ctx,
    "unknown_alias",
    `${qualifier}.${name}`,
    qualifier,
    `missing FROM-clause entry for '${qualifier}'${hint}`,
    known,
    byTable ? { suggestion: `${byTable.alias}.${name}` } : {},
  );
  return null;
}

function resolveUnqualified(ctx: Context, scope: Scope, name: string, clause: Clause): SqlColumnUse | null {
  if (clause === "orderBy" && scope.outputs.has(name.toLowerCase())) return null;
  const scopes = allScopes(scope);
  for (const [depth, s] of scopes.entries()) {
    const found = s.sources
      .map((source) => ({ source, column: hasColumn(source, name) }))
      .filter((x) => x.column !== undefined);
    const unknown = s.sources.filter((x) => x.columns === null);
    if (found.length > 1 && !s.merged.has(name.toLowerCase())) {
      problem(
        ctx,
        "ambiguous_column",
        name,
        name,
        `column reference '${name}' is ambiguous: it is in ${found.map((f) => f.source.alias).join(" and ")}`,
        found.map((f) => `${f.source.alias}.${f.column!.name}`),
      );
      return null;
    }
    if (found.length >= 1) {
      if (depth > 0) scope.usedOuter = true;
      return useColumn(ctx, found[0]!.source, found[0]!.column, name);
    }
    if (unknown.length > 0) {
      if (depth > 0) scope.usedOuter = true;
      const only = s.sources.length === 1 ? s.sources[0]! : undefined;
      if (only?.kind === "table") return useColumn(ctx, only, undefined, name);
      const use = { table: null, column: name };
      recordColumn(ctx, use);
      return use;
    }
  }
  if (clause === "groupBy" && scope.outputs.has(name.toLowerCase())) return null;
  // A bare FROM alias is a whole-row value (`SELECT t FROM projects t`).
  if (scopes.some((s) => s.sources.some((x) => x.alias === name))) return null;
  const candidates = scopes.flatMap((s) => s.sources.flatMap((x) => (x.columns ?? []).map((c) => c.name)));
  const where =
    scope.sources.length === 0 ? "there is no FROM clause" : `not in ${scope.sources.map(sourceLabel).join(", ")}`;
  problem(ctx, "unknown_column", name, name, `column '${name}' does not exist (${where})`, [
    ...candidates,
    ...scope.outputs,
  ]);
  return null;
}

// ─── expressions ───────────────────────────────────────────────────────────────────────────────────

type Clause = "select" | "where" | "groupBy" | "having" | "orderBy" | "on" | "other";

function walkExpr(ctx: Context, scope: Scope, node: unknown, clause: Clause): void {
  if (node === null || typeof node !== "object") return;
  if (Array.isArray(node)) {
    for (const item of node) walkExpr(ctx, scope, item, clause);
    return;
  }
  const n = node as Record<string, unknown> & { type?: unknown };
  switch (n.type) {
    case "ref": {
      const ref = n as unknown as { table?: { name: string }; name: string };
      if (ref.table !== undefined) resolveQualified(ctx, scope, ref.table.name, ref.name, ref.name === "*");
      else if (ref.name !== "*") resolveUnqualified(ctx, scope, ref.name, clause);
      return;
    }
    case "integer":
    case "numeric":
      ctx.literals.push(n.value as number);
      return;
    case "string":
      ctx.literals.push(n.value as string);
      return;
    case "call": {
      const name = (n.function as { name: string }).name.toLowerCase();
      if (AGGREGATES.has(name) && n.over === undefined)
        ctx.aggregates.push(exprSql(n as unknown as Expr).toLowerCase());
      break;
    }
    case "binary":
      if ((clause === "where" || clause === "on") && COMPARISONS.has(String(n.op)))
        noteSargability(ctx, n.left, n.right);
      break;
    default:
      if (typeof n.type === "string" && STATEMENT_TYPES.has(n.type)) {
        const inner = newScope(scope);
        walkStatement(ctx, n as unknown as SelectStatement, inner);
        if (inner.usedOuter) ctx.correlated++;
        return;
      }
  }
  for (const [key, value] of Object.entries(n))
    if (key !== "_location" && key !== "function") walkExpr(ctx, scope, value, clause);
}

/** A function or cast applied to a column on one side of a comparison, with a constant other side. */
function noteSargability(ctx: Context, left: unknown, right: unknown): void {
  for (const [side, other] of [
    [left, right],
    [right, left],
  ] as const) {
    const s = side as { type?: string; function?: { name: string } } | null;
    if (s === null || typeof s !== "object") continue;
    const wraps =
      (s.type === "call" && !AGGREGATES.has(s.function!.name.toLowerCase())) ||
      s.type === "cast" ||
      s.type === "extract" ||
      s.type === "substring";
    if (wraps && containsRef(s) && !containsRef(other)) ctx.nonSargable.push(exprSql(s as Expr));
  }
}

// ─── statements ────────────────────────────────────────────────────────────────────────────────────

/** Output name PostgreSQL gives a select item without alias. */
function outputName(column: SelectedColumn): string {
  if (column.alias) return column.alias.name;
  const e = column.expr as {
    type: string;
    name?: string;
    function?: { name: string };
    operand?: unknown;
    to?: { name?: string };
  };
  if (e.type === "ref") return e.name!;
  if (e.type === "call") return e.function!.name;
  if (e.type === "cast") {
    const inner = e.operand as { type: string; name?: string };
    return inner.type === "ref" ? inner.name! : (e.to?.name ?? "?column?");
  }
  return "?column?";
}

function expandStar(scope: Scope, qualifier: string | undefined): SourceColumn[] | null {
  const sources = qualifier === undefined ? scope.sources : scope.sources.filter((s) => sameName(s.alias, qualifier));
  const out: SourceColumn[] = [];
  for (const source of sources) {
    if (source.columns === null) return null;
    for (const c of source.columns)
      out.push({ name: c.name, origin: source.kind === "table" ? { table: source.table!, column: c.name } : c.origin });
  }
  return out;
}

function walkSelect(ctx: Context, select: SelectFromStatement, scope: Scope): SourceColumn[] | null {
  addFrom(ctx, select.from ?? [], scope);
  for (const column of select.columns ?? []) if (column.alias) scope.outputs.add(column.alias.name.toLowerCase());
  let outputs: SourceColumn[] | null = [];
  for (const column of select.columns ?? []) {
    const e = column.expr as { type: string; name?: string; table?: { name: string } };
    if (e.type === "ref" && e.name === "*") {
      ctx.selectStar = true;
      if (e.table !== undefined) resolveQualified(ctx, scope, e.table.name, "*", true);
      const expanded = expandStar(scope, e.table?.name);
      outputs = outputs === null || expanded === null ? null : [...outputs, ...expanded];
      continue;
    }
    const before = ctx.columns.size;
    walkExpr(ctx, scope, column.expr, "select");
    let origin: SqlColumnUse | null = null;
    if (e.type === "ref") {
      const added = [...ctx.columns.values()];
      origin = added.length > before ? added[added.length - 1]! : originOf(scope, e.table?.name, e.name!);
    }
    outputs?.push({ name: outputName(column), origin });
  }
  walkExpr(ctx, scope, select.where, "where");
  noteCartesian(ctx, scope, select);
  walkExpr(ctx, scope, select.groupBy, "groupBy");
  walkExpr(ctx, scope, select.having, "having");
  if (Array.isArray(select.distinct)) walkExpr(ctx, scope, select.distinct, "select");
  for (const order of select.orderBy ?? []) walkExpr(ctx, scope, order.by, "orderBy");
  walkExpr(ctx, scope, select.limit, "other");
  return outputs;
}

/** The origin of an already-recorded column (a ref used twice). */
function originOf(scope: Scope, qualifier: string | undefined, name: string): SqlColumnUse | null {
  for (const s of allScopes(scope)) {
    for (const source of s.sources) {
      if (qualifier !== undefined && !sameName(source.alias, qualifier)) continue;
      const column = hasColumn(source, name);
      if (
        source.kind === "table" &&
        (column !== undefined || (source.columns === null && (qualifier !== undefined || s.sources.length === 1)))
      )
        return { table: source.table!, column: column?.name ?? name };
      if (column !== undefined) return column.origin;
    }
  }
  return null;
}

/** FROM-list and CROSS JOIN pairs that no equality in WHERE links. */
function noteCartesian(ctx: Context, scope: Scope, select: SelectFromStatement): void {
  const from = select.from ?? [];
  if (from.length < 2) return;
  const linked = new Set<string>();
  const collect = (node: unknown): void => {
    if (node === null || typeof node !== "object") return;
    if (Array.isArray(node)) {
      for (const child of node) collect(child);
      return;
    }
    const n = node as { type?: string; op?: string; left?: unknown; right?: unknown };
    if (n.type === "binary" && n.op !== "AND" && n.op !== "OR") {
      const names = [...qualifiers(n.left), ...qualifiers(n.right)];
      for (const a of names) for (const b of names) if (a !== b) linked.add(`${a}|${b}`);
      return;
    }
    if (typeof n.type === "string" && STATEMENT_TYPES.has(n.type)) return;
    Object.values(node).forEach(collect);
  };
  collect(select.where);
  for (let i = 1; i < from.length; i++) {
    const item = from[i]!;
    const join = item.join;
    if (join !== undefined && join !== null && join.type !== "CROSS JOIN") continue;
    const right = scope.sources[i]?.alias.toLowerCase();
    const lefts = scope.sources.slice(0, i).map((s) => s.alias.toLowerCase());
    if (right === undefined || lefts.some((l) => linked.has(`${l}|${right}`))) continue;
    if (scope.sources[i]!.kind === "function" || (item.type === "statement" && item.lateral)) continue;
    ctx.cartesianJoins.push([...lefts, right]);
  }
}

function tableSource(
  ctx: Context,
  item: Extract<From, { type: "table" }>,
  ctes: Map<string, SourceColumn[] | null>,
): Source {
  const { name, schema, alias } = item.name;
  const label = alias ?? name;
  const cte = schema === undefined ? [...ctes.entries()].find(([k]) => sameName(k, name)) : undefined;
  if (cte !== undefined) return { alias: label, kind: "cte", columns: renamed(cte[1], item.name.columnNames) };
  let table: SchemaTable | undefined;
  if (ctx.schema !== undefined) {
    table = findTable(ctx.schema, name, schema);
    if (table === undefined) {
      const qualified = schema ? `${schema}.${name}` : name;
      problem(ctx, "unknown_table", qualified, name, `relation '${qualified}' does not exist`, [
        ...ctx.schema.tables.map((t) => t.name),
        ...ctes.keys(),
      ]);
    }
  }
  const tableName = table?.name ?? name;
  if (!ctx.tables.includes(tableName)) ctx.tables.push(tableName);
  const columns = table
    ? table.columns.map((c) => ({ name: c.name, origin: { table: table!.name, column: c.name } }))
    : null;
  return { alias: label, kind: "table", table: tableName, columns: renamed(columns, item.name.columnNames) };
}

function renamed(
  columns: SourceColumn[] | null,
  names: readonly { name: string }[] | null | undefined,
): SourceColumn[] | null {
  if (!names || names.length === 0) return columns;
  if (columns === null) return names.map((n) => ({ name: n.name, origin: null }));
  return columns.map((c, i) => (i < names.length ? { name: names[i]!.name, origin: c.origin } : c));
}

function addFrom(ctx: Context, from: readonly From[], scope: Scope): void {
  const ctes = visibleCtes(scope);
  for (const item of from) {
    let source: Source;
    if (item.type === "table") source = tableSource(ctx, item, ctes);
    else if (item.type === "statement") {
      const inner = newScope(item.lateral ? scope : scope.parent);
      const outputs = walkStatement(ctx, item.statement, inner);
      source = { alias: item.alias, kind: "subquery", columns: renamed(outputs, item.columnNames) };
    } else {
      walkExpr(ctx, scope, item.args, "other");
      const alias = item.alias?.name ?? item.function.name;
      const columns = item.alias?.columns?.map((c) => ({ name: c.name, origin: null })) ?? null;
      source = { alias, kind: "function", columns };
    }
    const left = scope.sources[scope.sources.length - 1];
    scope.sources.push(source);
    const join = item.join;
    if (join === undefined || join === null) {
      if (left !== undefined)
        ctx.joins.push({
          type: ",",
          tables: [left.table ?? left.alias, source.table ?? source.alias],
          condition: null,
        });
      continue;
    }
    let condition: string | null = null;
    if (join.on) {
      condition = exprSql(join.on);
      walkExpr(ctx, scope, join.on, "on");
    } else if (join.using) {
      condition = `USING (${join.using.map((u) => u.name).join(", ")})`;
      for (const u of join.using) checkUsing(ctx, scope, source, u.name);
    }
    ctx.joins.push({
      type: join.type,
      tables: [left?.table ?? left?.alias ?? "?", source.table ?? source.alias],
      condition,
    });
  }
}

/** JOIN … USING (c): c must be on the right side and on exactly one earlier source. */
function checkUsing(ctx: Context, scope: Scope, right: Source, name: string): void {
  const lefts = scope.sources.slice(0, -1);
  const leftHits = lefts.filter((s) => s.columns === null || hasColumn(s, name) !== undefined);
  if (right.columns !== null && hasColumn(right, name) === undefined) {
    problem(
      ctx,
      "unknown_column",
      `${right.alias}.${name}`,
      name,
      `column '${name}' named in USING does not exist in ${sourceLabel(right)}`,
      right.columns.map((c) => c.name),
    );
  } else useColumn(ctx, right, hasColumn(right, name), name);
  if (leftHits.length === 0) {
    problem(
      ctx,
      "unknown_column",
      name,
      name,
      `column '${name}' named in USING does not exist in the left side of the join`,
      lefts.flatMap((s) => (s.columns ?? []).map((c) => c.name)),
    );
  } else for (const s of leftHits) useColumn(ctx, s, hasColumn(s, name), name);
  scope.merged.add(name.toLowerCase());
}

/** CTEs visible from a scope (innermost wins). */
const CTE_KEY = Symbol("ctes");
type CteScope = Scope & { [CTE_KEY]?: Map<string, SourceColumn[] | null> };

function visibleCtes(scope: Scope): Map<string, SourceColumn[] | null> {
  const out = new Map<string, SourceColumn[] | null>();
  for (const s of allScopes(scope).reverse()) for (const [k, v] of (s as CteScope)[CTE_KEY] ?? []) out.set(k, v);
  return out;
}

function defineCte(scope: Scope, name: string, columns: SourceColumn[] | null): void {
  const s = scope as CteScope;
  s[CTE_KEY] ??= new Map();
  s[CTE_KEY].set(name, columns);
}

function walkStatement(ctx: Context, statement: SelectStatement, scope: Scope): SourceColumn[] | null {
  switch (statement.type) {
    case "select":
      return walkSelect(ctx, statement, scope);
    case "union":
    case "union all": {
      const left = walkStatement(ctx, statement.left, newScope(scope.parent));
      walkStatement(ctx, statement.right, newScope(scope.parent));
      return left;
    }
    case "values":
      walkExpr(ctx, scope, statement.values, "other");
      return statement.values[0]?.map((_, i) => ({ name: `column${i + 1}`, origin: null })) ?? [];
    case "with": {
      const holder = newScope(scope.parent);
      for (const bind of statement.bind) {
        ctx.cteNames.push(bind.alias.name);
        const columns = walkStatement(ctx, bind.statement as SelectStatement, newScope(holder));
        defineCte(holder, bind.alias.name, columns);
      }
      return walkStatement(ctx, statement.in as SelectStatement, newScope(holder));
    }
    case "with recursive": {
      const holder = newScope(scope.parent);
      ctx.cteNames.push(statement.alias.name);
      const declared = statement.columnNames.map((c) => ({ name: c.name, origin: null }));
      defineCte(holder, statement.alias.name, declared.length > 0 ? declared : null);
      const columns = walkStatement(ctx, statement.bind, newScope(holder));
      if (declared.length === 0) defineCte(holder, statement.alias.name, columns);
      return walkStatement(ctx, statement.in as SelectStatement, newScope(holder));
    }
  }
}

function outermostSelect(statement: Statement): SelectFromStatement | null {
  switch (statement.type) {
    case "select":
      return statement;
    case "union":
    case "union all":
      return outermostSelect(statement.right);
    case "with":
    case "with recursive":
      return outermostSelect(statement.in);
    default:
      return null;
  }
}

// ─── public API ────────────────────────────────────────────────────────────────────────────────────

export interface SchemaAnalysis {
  analysis: SqlAnalysis;
  /** Names that do not resolve against the schema (empty without a schema). */
  problems: SchemaProblem[];
}

/**
 * Analyses a query and, with a schema, reports the names it cannot resolve. Null when the text does not
 * parse to exactly one SELECT / VALUES / WITH statement.
 */
export function analyzeSqlWithSchema(sql: string | ParsedSql, schema?: SchemaModel): SchemaAnalysis | null {
  const parsed = typeof sql === "string" ? parseSql(sql) : sql;
  const ast = parsed.ast;
  if (ast === null || !STATEMENT_TYPES.has(ast.type)) return null;
  const ctx: Context = {
    schema,
    tables: [],
    columns: new Map(),
    joins: [],
    aggregates: [],
    literals: [],
    selectStar: false,
    cteNames: [],
    cartesianJoins: [],
    nonSargable: [],
    correlated: 0,
    problems: [],
  };
  walkStatement(ctx, ast as SelectStatement, newScope(null));
  const outer = outermostSelect(ast);
  const analysis: SqlAnalysis = {
    tables: ctx.tables,
    columns: [...ctx.columns.values()],
    joins: ctx.joins,
    aggregates: ctx.aggregates,
    literals: ctx.literals,
    hasOrderBy: (outer?.orderBy?.length ?? 0) > 0,
    hasLimit: outer?.limit?.limit !== undefined && outer?.limit?.limit !== null,
    selectStar: ctx.selectStar,
    cteNames: ctx.cteNames,
    cartesianJoins: ctx.cartesianJoins,
    nonSargable: ctx.nonSargable,
    correlatedSubqueries: ctx.correlated,
  };
  return { analysis, problems: ctx.problems };
}

/**
 * What a query uses (see the file comment); with a schema, unqualified columns resolve to their table.
 * Null when it does not parse to one SELECT / VALUES / WITH statement.
 */
export function analyzeSql(sql: string | ParsedSql, schema?: SchemaModel): SqlAnalysis | null {
  return analyzeSqlWithSchema(sql, schema)?.analysis ?? null;
}

/** Tables and columns as the rewards see them (`SchemaItems` of rewards/rewardSample.ts). */
export interface SqlSchemaItems {
  tables: string[];
  columns: string[];
}

/** The rewards' view of an analysis: lower-cased `table` and `table.column` (columns of unknown table as `column`). */
export function toSchemaItems(analysis: SqlAnalysis): SqlSchemaItems {
  return {
    tables: [...new Set(analysis.tables.map((t) => t.toLowerCase()))],
    columns: [
      ...new Set(analysis.columns.map((c) => (c.table === null ? c.column : `${c.table}.${c.column}`).toLowerCase())),
    ],
  };
}

/**
 * The adapter `RewardEnvironment.analyze` expects: tables and columns a query uses, or null.
 *
 * Structurally the rewards' `SchemaItems` (rewards/rewardSample.ts); sql/ does not import rewards/.
 *
 * @example
 * const analyze = createSchemaItemsAnalyzer(schema);
 * analyze("SELECT name FROM projects"); // { tables: ["projects"], columns: ["projects.name"] }
 */
export function createSchemaItemsAnalyzer(schema?: SchemaModel): (sql: string) => SqlSchemaItems | null {
  return (sql) => {
    const analysis = analyzeSql(sql, schema);
    return analysis === null ? null : toSchemaItems(analysis);
  };
}
