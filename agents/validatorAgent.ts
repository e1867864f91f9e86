/**
 * The validator agent: validates candidate SQL (sql/validateSql's verdict: syntax, schema, safety policy,
 * business rules) and executes the valid ones sandboxed.
 *
 *   validating ─▶ done        (an effect error ─▶ failed)
 *
 * Effects, named promise actors:
 * - `validateSql`: every distinct SQL text once (duplicates share the verdict), concurrently.
 * - `executeCandidates` (exported logic, called by the orchestrator's execute node through the runtime):
 *   every distinct SQL once through the sandboxed executor (read-only transaction, time limit, row cap);
 *   a failed query is an outcome `{ ok: false, error, code }`, not an exception.
 *
 * @example
 * const verdicts = await runtime.call(validatorMachine, { sqls: ["SELECT 1"], schema, executor: db });
 */
import { assign, fromPromise, setup } from "xstate";
import type { SchemaModel } from "../sql/schemaModel.js";
import { type ExecuteOptions, type ExecutionOutcome, executeOutcome, type SqlExecutor } from "../sql/sqlExecutor.js";
import type { AgentResult } from "../runtime/actorRuntime.js";
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
  /** Default sql/validateSql. */
  validate?: ValidateSqlFn;
}

async function validateAll({ input, signal }: { input: ValidatorInput; signal: AbortSignal }): Promise<SqlVerdict[]> {
  const validate = input.validate ?? validateSql;
  const distinct = new Map<string, Promise<SqlVerdict>>();
  for (const sql of input.sqls) {
    if (!distinct.has(sql))
      distinct.set(sql, validate(sql, { schema: input.schema, executor: input.executor, signal }));
  }
  return Promise.all(input.sqls.map((sql) => distinct.get(sql)!));
}

interface ValidatorContext extends ValidatorInput {
  verdicts: SqlVerdict[];
  error: unknown;
  failed: boolean;
}

/** The validator machine (see the file comment). */
export const validatorMachine = setup({
  types: { input: {} as ValidatorInput, context: {} as ValidatorContext, output: {} as AgentResult<SqlVerdict[]> },
  actors: { validateSql: fromPromise(validateAll) },
}).createMachine({
  id: "validator",
  context: ({ input }) => ({ ...input, verdicts: [], error: null, failed: false }),
  initial: "validating",
  states: {
    validating: {
      invoke: {
        src: "validateSql",
        input: ({ context }) => ({
          sqls: context.sqls,
          schema: context.schema,
          executor: context.executor,
          validate: context.validate,
        }),
        onDone: { target: "done", actions: assign({ verdicts: ({ event }) => event.output }) },
        onError: { target: "failed", actions: assign({ error: ({ event }) => event.error, failed: true }) },
      },
    },
    done: { type: "final" },
    failed: { type: "final" },
  },
  output: ({ context }) =>
    context.failed ? { ok: false as const, error: context.error } : { ok: true as const, value: context.verdicts },
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
