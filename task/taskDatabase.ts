/**
 * A database as the text-to-SQL task sees it: the executor, and its schema introspected from the live
 * database (sql/schemaModel.ts `introspectSchema`) once — the DDL every non-tiny prompt shows comes from
 * here, never from a file. A failed introspection is not kept: the next call tries again.
 *
 * @example
 * const db = taskDatabase(await openDatabase("pglite:./clinic-db"));
 * (await db.schema()).tables.map((t) => t.name); // ["patients", "visits", …]
 */
import { introspectSchema, type SchemaModel } from "../sql/schemaModel.js";
import type { SqlExecutor } from "../sql/sqlExecutor.js";

export interface TaskDatabase {
  readonly executor: SqlExecutor;
  /** The introspected schema (read once, then cached). */
  schema(): Promise<SchemaModel>;
}

/** Wraps an executor; `schema` overrides introspection (e.g. the orchestrator's own cache). */
export function taskDatabase(executor: SqlExecutor, schema?: () => Promise<SchemaModel>): TaskDatabase {
  let cached: Promise<SchemaModel> | undefined;
  return {
    executor,
    schema:
      schema ??
      (() => {
        cached ??= introspectSchema(executor).catch((error: unknown) => {
          cached = undefined;
          throw error;
        });
        return cached;
      }),
  };
}
