// validateSql stage by stage on the real demo database (PGlite) and the real parser.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { AbortError, InputError } from "../errors.js";
import { loadDatasetSplits, type DatasetItem } from "../data/loadDataset.js";
import { DEMO_BUSINESS_RULES, type BusinessRule } from "./businessRules.js";
import { openDatabase } from "./openDatabase.js";
import { introspectSchema, type SchemaModel } from "./schemaModel.js";
import type { ExecuteOptions, SqlExecutor } from "./sqlExecutor.js";
import { editDistance, nearestNames, validateSql, type ValidationResult } from "./validateSql.js";

const codes = (issues: { code: string }[]): string[] => issues.map((i) => i.code);

describe("validateSql", () => {
  let db: SqlExecutor;
  let schema: SchemaModel;
  let executed: string[];
  /** The real demo database, recording what reaches it. */
  let recorded: SqlExecutor;
  let items: DatasetItem[];
  beforeAll(async () => {
    db = await openDatabase("demo");
    schema = await introspectSchema(db);
    executed = [];
    recorded = {
      ...db,
      execute: (sql: string, options?: ExecuteOptions) => {
        executed.push(sql);
        return db.execute(sql, options);
      },
    };
    const splits = await loadDatasetSplits();
    items = [...splits.train, ...splits.dev, ...splits.test, ...splits.test_unseen];
  }, 120_000);
  afterAll(async () => {
    await db.close();
  });
  const check = (sql: string, extra: object = {}): Promise<ValidationResult> =>
    validateSql(sql, { schema, executor: recorded, ...extra });

  it("accepts a correct query and returns its analysis", async () => {
    const result = await check(
      "SELECT p.name, c.name AS customer FROM projects p JOIN customers c ON c.customer_id = p.customer_id WHERE p.status = 'active' ORDER BY p.name LIMIT 5",
    );
    expect(result).toMatchObject({ valid: true, errors: [], warnings: [] });
    expect(result.analysis!.tables).toEqual(["projects", "customers"]);
    expect(result.analysis!.joins).toEqual([
      { type: "INNER JOIN", tables: ["projects", "customers"], condition: "c.customer_id = p.customer_id" },
    ]);
    expect(result.analysis).toMatchObject({
      hasOrderBy: true,
      hasLimit: true,
      selectStar: false,
      literals: ["active", 5],
    });
  });

  it("safety: refuses writes, several statements and catalog access before anything reaches the database", async () => {
    executed.length = 0;
    const write = await check("DELETE FROM projects");
    expect(write.valid).toBe(false);
    expect(codes(write.errors)).toEqual(expect.arrayContaining(["unsafe_not_read_only", "unsafe_forbidden_keyword"]));
    expect(codes(await check("SELECT 1; SELECT 2").then((r) => r.errors))).toContain("unsafe_multi_statement");
    expect(codes(await check("SELECT * FROM pg_catalog.pg_authid").then((r) => r.errors))).toContain(
      "unsafe_catalog_access",
    );
    expect(codes(await check("   ").then((r) => r.errors))).toEqual(["unsafe_empty"]);
    for (const r of [write]) for (const e of r.errors) expect(e.hint).toMatch(/\S/);
    expect(executed).toEqual([]);
  });

  it("syntax: parser errors without an executor; PostgreSQL decides where the parser fails", async () => {
    const offline = await validateSql("SELECT name FROM projects WHERE", { schema });
    expect(codes(offline.errors)).toEqual(["syntax_error"]);
    const online = await check("SELECT name FROM projects WHERE");
    expect(codes(online.errors)).toEqual(["syntax_error"]);
    expect(online.errors[0]!.message).toMatch(/syntax error at end of input/);
    // pgsql-ast-parser cannot read IS DISTINCT FROM; PostgreSQL can.
    const unsupported = await check("SELECT name FROM projects WHERE budget IS DISTINCT FROM 0");
    expect(unsupported.valid).toBe(true);
    expect(codes(unsupported.warnings)).toContain("parser_unsupported");
    expect(
      codes((await validateSql("SELECT name FROM projects WHERE budget IS DISTINCT FROM 0", { schema })).errors),
    ).toEqual(["syntax_error"]);
  });

  it.each([
    ["SELECT nme FROM projects", "unknown_column", /column 'nme' does not exist/, /did you mean name\?/],
    ["SELECT p.budjet FROM projects p", "unknown_column", /p\.budjet/, /did you mean budget\?/],
    ["SELECT name FROM project", "unknown_table", /relation 'project' does not exist/, /did you mean projects\?/],
    ["SELECT account_number FROM gl_account", "unknown_table", /gl_account/, /did you mean gl_accounts\?/],
    ["SELECT account_number FROM accounts", "unknown_table", /accounts/, /did you mean gl_accounts\?/],
    ["SELECT pr.name FROM projects p", "unknown_alias", /missing FROM-clause entry for 'pr'/, /did you mean p\?/],
    ["SELECT projects.name FROM projects p", "unknown_alias", /aliased 'p'/, /did you mean p\.name\?/],
    [
      "SELECT name FROM projects JOIN customers USING (customer_id)",
      "ambiguous_column",
      /'name' is ambiguous/,
      /qualify it: projects\.name or customers\.name/,
    ],
    [
      "WITH t AS (SELECT project_id FROM projects) SELECT t.budget FROM t",
      "unknown_column",
      /CTE t has no column 'budget'/,
      /not an output column of CTE t: add it to its select list \(it has project_id\)/,
    ],
    [
      "SELECT s.total FROM (SELECT sum(amount) AS amount_sum FROM invoices) s",
      "unknown_column",
      /subquery s has no column 'total'/,
      /./,
    ],
    [
      "SELECT salary FROM projects",
      "unknown_column",
      /'salary' does not exist/,
      /'salary' is a column of employees: join that table/,
    ],
    ["SELECT e.name FROM employees e", "unknown_column", /e\.name/, /./],
    [
      "SELECT p.name FROM projects p JOIN customers c USING (custmer_id)",
      "unknown_column",
      /custmer_id/,
      /did you mean customer_id\?/,
    ],
  ])("schema: %s → %s", async (sql, code, message, hint) => {
    for (const result of [await check(sql), await validateSql(sql, { schema })]) {
      expect(result.valid).toBe(false);
      expect(result.errors[0]).toMatchObject({
        code,
        message: expect.stringMatching(message),
        hint: expect.stringMatching(hint),
      });
    }
  });

  it("schema: resolves through aliases, CTEs, subqueries, USING, lateral and outer references", async () => {
    const sql = `WITH spend AS (SELECT jl.project_id, sum(jl.debit) AS spent FROM journal_lines jl JOIN journal_entries je USING (entry_id) WHERE je.posted GROUP BY jl.project_id)
      SELECT p.name, s.spent, x.n FROM projects p JOIN spend s ON s.project_id = p.project_id
      CROSS JOIN LATERAL (SELECT count(*) AS n FROM timesheets t WHERE t.project_id = p.project_id) x
      WHERE EXISTS (SELECT 1 FROM invoices i WHERE i.project_id = p.project_id AND status <> 'void') ORDER BY spent DESC`;
    const result = await check(sql);
    expect(result.errors).toEqual([]);
    const cols = result.analysis!.columns.map((c) => `${c.table}.${c.column}`);
    expect(cols).toEqual(
      expect.arrayContaining([
        "journal_lines.project_id",
        "journal_lines.debit",
        "journal_entries.entry_id",
        "journal_lines.entry_id",
        "journal_entries.posted",
        "projects.name",
        "timesheets.project_id",
        "invoices.status",
      ]),
    );
    expect(result.analysis!.cteNames).toEqual(["spend"]);
    expect(result.analysis!.tables).toEqual(["journal_lines", "journal_entries", "projects", "timesheets", "invoices"]);
    expect(result.analysis!.correlatedSubqueries).toBe(1);
  });

  it("PostgreSQL: grouping and type errors are postgres_rejected with PostgreSQL's message and a hint", async () => {
    const grouping = await check("SELECT name, count(*) FROM projects");
    expect(grouping.errors).toEqual([
      {
        code: "postgres_rejected",
        message: expect.stringMatching(/must appear in the GROUP BY clause/),
        hint: expect.stringMatching(/GROUP BY/),
      },
    ]);
    const type = await check("SELECT lower(budget) FROM projects");
    expect(type.errors[0]).toMatchObject({
      code: "postgres_rejected",
      message: expect.stringMatching(/function lower\(numeric\) does not exist/),
    });
    const literal = await check("SELECT name FROM projects WHERE budget = 'abc'");
    expect(literal.errors[0]!.message).toMatch(/invalid input syntax for type numeric/);
    // A name error is reported once (by the schema stage, with its hint), not again by PostgreSQL.
    expect((await check("SELECT nme FROM projects")).errors.map((e) => e.code)).toEqual(["unknown_column"]);
    // Without an executor the same queries pass: only PostgreSQL knows.
    expect((await validateSql("SELECT name, count(*) FROM projects", { schema })).valid).toBe(true);
    executed.length = 0;
    await check("SELECT 1");
    expect(executed).toEqual(["EXPLAIN (FORMAT JSON) SELECT 1"]);
  });

  it("business rules are opt-in: none by default; the GL rules as warnings when passed; user rules; off", async () => {
    expect(codes((await check("SELECT sum(jl.debit - jl.credit) FROM journal_lines jl")).warnings)).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/^rule_/)]),
    );
    const gl = { businessRules: DEMO_BUSINESS_RULES };
    const sums = await check("SELECT sum(jl.debit - jl.credit) FROM journal_lines jl", gl);
    expect(sums.valid).toBe(true);
    expect(codes(sums.warnings)).toEqual(
      expect.arrayContaining(["rule_posted_entries_only", "rule_debit_credit_sign"]),
    );
    const posted = await check(
      "SELECT a.account_type, sum(jl.debit - jl.credit) FROM journal_lines jl JOIN journal_entries je ON je.entry_id = jl.entry_id JOIN gl_accounts a ON a.account_id = jl.account_id WHERE je.posted GROUP BY a.account_type",
      gl,
    );
    expect(codes(posted.warnings).filter((c) => c.startsWith("rule_"))).toEqual([]);
    expect(codes((await check("SELECT sum(amount) FROM invoices", gl)).warnings)).toContain(
      "rule_void_documents_excluded",
    );
    expect(codes((await check("SELECT sum(amount) FROM invoices WHERE status <> 'void'", gl)).warnings)).not.toContain(
      "rule_void_documents_excluded",
    );
    expect(
      codes((await check("SELECT sum(jl.debit) FROM journal_lines jl", { businessRules: false })).warnings),
    ).toEqual([]);
    const noPlanned: BusinessRule = {
      id: "no_planned_projects",
      description: "planned projects are not reported",
      applies: (a) => a.tables.includes("projects"),
      check: (a) =>
        a.literals.includes("planned")
          ? null
          : {
              code: "rule_no_planned_projects",
              message: "planned projects are included",
              hint: "add status <> 'planned'",
            },
    };
    expect(codes((await check("SELECT name FROM projects", { businessRules: [noPlanned] })).warnings)).toEqual([
      "rule_no_planned_projects",
    ]);
    expect(
      codes(
        (await check("SELECT name FROM projects WHERE status <> 'planned'", { businessRules: [noPlanned] })).warnings,
      ),
    ).toEqual([]);
  });

  it("performance: plan and AST heuristics as warnings with suggestions", async () => {
    const star = await check("SELECT * FROM employees WHERE lower(last_name) = 'smith'");
    expect(codes(star.warnings)).toEqual(expect.arrayContaining(["perf_select_star", "perf_non_sargable"]));
    expect(codes((await check("SELECT * FROM journal_lines")).warnings)).toContain("perf_no_limit");
    expect(codes((await check("SELECT * FROM journal_lines LIMIT 10")).warnings)).not.toContain("perf_no_limit");
    const cartesian = await check("SELECT p.name, c.name FROM projects p, customers c LIMIT 10");
    expect(cartesian.warnings.find((w) => w.code === "perf_cartesian_join")?.hint).toMatch(
      /JOIN customers ON|join with ON/,
    );
    expect(
      codes(
        (await check("SELECT p.name, c.name FROM projects p, customers c WHERE c.customer_id = p.customer_id"))
          .warnings,
      ),
    ).not.toContain("perf_cartesian_join");
    const correlated = await check(
      "SELECT p.name FROM projects p WHERE p.budget > (SELECT avg(q.budget) FROM projects q WHERE q.department_id = p.department_id)",
    );
    expect(codes(correlated.warnings)).toContain("perf_correlated_subquery");
    expect((await check("SELECT * FROM journal_lines", { performance: false })).warnings).toEqual([]);
    for (const w of star.warnings) expect(w.hint).toMatch(/\S/);
  });

  it("every demo gold query is valid with the schema; the dev split also with PostgreSQL; analysis finds its tables", async () => {
    const distinct = [...new Map(items.map((i) => [i.sql, i])).values()];
    for (const item of distinct) {
      const result = await validateSql(item.sql, { schema });
      expect([item.id, result.errors]).toEqual([item.id, []]);
      expect(result.analysis!.tables).toEqual(expect.arrayContaining(item.tables ?? []));
      expect(result.analysis!.columns.filter((c) => c.table === null)).toEqual([]);
    }
    for (const item of distinct.filter((i) => i.split === "dev")) {
      const result = await check(item.sql);
      expect([item.id, result.errors]).toEqual([item.id, []]);
    }
  }, 120_000);

  it("rejects non-string input and honours an aborted signal", async () => {
    await expect(validateSql(42 as unknown as string)).rejects.toBeInstanceOf(InputError);
    const controller = new AbortController();
    controller.abort();
    await expect(check("SELECT 1", { signal: controller.signal })).rejects.toBeInstanceOf(AbortError);
  });

  it("edit distance and nearest names", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("Name", "name")).toBe(0);
    expect(editDistance("abc", "abcdefgh", 2)).toBe(3);
    expect(nearestNames("custmer_id", ["customer_id", "department_id", "name"])).toEqual(["customer_id"]);
    expect(nearestNames("zzz", ["customer_id", "name"])).toEqual([]);
  });
});
