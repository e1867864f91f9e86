/**
 * `gl-rl/sql` — the SQL toolkit: open a database, validate, execute sandboxed, compare results, read a schema.
 *
 * @example
 * import { executionMatch, openDatabase, validateSql, introspectSchema } from "gl-rl/sql";
 *
 * const db = await openDatabase("demo"); // or "pglite:<dir>", "postgres://user:password@host/db"
 * const check = await validateSql("SELECT nme FROM projects", { schema: await introspectSchema(db), executor: db });
 * console.log(check.valid, check.errors[0]?.hint); // false "did you mean name?"
 * const result = await db.execute("SELECT count(*) FROM projects"); // read-only, time limit, row cap
 * await db.close();
 */

// Open a database: "demo" (embedded PGlite, seeded), "pglite:<dir>" or "postgres://…"; every query runs
// read-only, with a time limit and a row cap, one statement, after the default-deny safety policy.
export { openDatabase } from "./sql/openDatabase.js";
export type { OpenDatabaseOptions } from "./sql/openDatabase.js";
export type { ExecuteOptions, ExecutionOutcome, QueryResult, ResultColumn, SqlExecutor } from "./sql/sqlExecutor.js";

// Validate: syntax, schema (with "did you mean" hints), safety, PostgreSQL's planner, business rules, performance.
export { validateSql } from "./sql/validateSql.js";
export type { ValidateOptions, ValidationIssue, ValidationResult } from "./sql/validateSql.js";
export { DEMO_BUSINESS_RULES, defaultBusinessRules } from "./sql/businessRules.js";
export type { BusinessRule } from "./sql/businessRules.js";

// Compare: execution match of two results (docs/execution-match.md).
export { executionMatch } from "./sql/executionMatch.js";
export type { MatchVerdict } from "./sql/executionMatch.js";

// Schema: introspected from a live database or read from DDL, and written back as DDL (what prompts carry).
export { introspectSchema, schemaDdl, schemaFromDdl } from "./sql/schemaModel.js";
export type { SchemaColumn, SchemaForeignKey, SchemaModel, SchemaTable } from "./sql/schemaModel.js";
