/**
 * The validator agent: two promise actors the orchestrator's graph calls through the actor runtime —
 * `validateCandidates` (sql/validateSql's verdict: syntax, schema, safety policy, PostgreSQL's planner,
 * business rules when given some) and `executeCandidates` (the valid ones, sandboxed). The graph owns the
 * loop around them (docs/agents.md says why an agent is one supervised effect).
 *
 * - `validateCandidates`: every distinct SQL text once (duplicates share the verdict), concurrently. A
 *   validator that throws rejects the actor.
 * - `executeCandidates`: every distinct SQL once through the sandboxed executor (read-only transaction,
 *   time limit, row and byte caps); a failed query is an outcome `{ ok: false, kind, error, code }`
 *   (sql/sqlExecutor.ts `ExecutionOutcome`), not an exception.
 *
 * @example
 * const verdicts = await runtime.call(validateCandidates, { sqls: ["SELECT 1"], schema, executor: db });
 */
import { fromPromise } from "xstate";
import type { SchemaModel } from "../sql/schemaModel.js";
import { type ExecuteOptions, type ExecutionOutcome, executeOutcome, type SqlExecutor } from "../sql/sqlExecutor.js";
import { validateSql, type ValidationResult } from "../sql/validateSql.js";

/** The validator's verdict on one SQL text (sql/validateSql's result). */
export type SqlVerdict = ValidationResult;

/** sql/validateSql's signature (the subset used here); pass another to replace it. */
export type ValidateSqlFn = (
  sql: string,
  options: { schema?: SchemaModel; executor?: SqlExecutor; signal?: AbortSignal },
) => Promise<SqlVerdict>;

export interface ValidatorInput {
  sqls: string[];
  schema?: SchemaModel;
  executor?: SqlExecutor;
  /** Default sql/validateSql (no business rules). */
  validate?: ValidateSqlFn;
}

/** Validates each distinct SQL once (see the file comment). */
export const validateCandidates = fromPromise<SqlVerdict[], ValidatorInput>(async ({ input, signal }) => {
  const validate = input.validate ?? validateSql;
  const distinct = new Map<string, Promise<SqlVerdict>>();
  for (const sql of input.sqls) {
    if (!distinct.has(sql))
      distinct.set(sql, validate(sql, { schema: input.schema, executor: input.executor, signal }));
  }
  return Promise.all(input.sqls.map((sql) => distinct.get(sql)!));
});

export interface ExecuteCandidatesInput {
  sqls: string[];
  executor: SqlExecutor;
  options?: ExecuteOptions;
}

/** Executes each distinct SQL once, sandboxed; failures become outcomes. */
export const executeCandidates = fromPromise<ExecutionOutcome[], ExecuteCandidatesInput>(async ({ input, signal }) => {
  const distinct = new Map<string, Promise<ExecutionOutcome>>();
  const run = (sql: string): Promise<ExecutionOutcome> =>
    executeOutcome(input.executor, sql, { ...input.options, signal });
  for (const sql of input.sqls) if (!distinct.has(sql)) distinct.set(sql, run(sql));
  return Promise.all(input.sqls.map((sql) => distinct.get(sql)!));
});
