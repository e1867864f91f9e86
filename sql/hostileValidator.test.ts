// Every statement of the hostile fixture is refused by validateSql with a safety error, before anything
// reaches the database (the real demo PGlite, recording what it is sent) — also in lower case, with
// surrounding whitespace and a trailing comment.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { hostileStatements } from "./hostileStatements.js";
import { openDatabase } from "./openDatabase.js";
import { introspectSchema, type SchemaModel } from "./schemaModel.js";
import type { ExecuteOptions, SqlExecutor } from "./sqlExecutor.js";
import { validateSql } from "./validateSql.js";

describe("hostile statements through validateSql", () => {
  let db: SqlExecutor;
  let schema: SchemaModel;
  const sent: string[] = [];
  let recorded: SqlExecutor;
  beforeAll(async () => {
    db = await openDatabase("demo");
    schema = await introspectSchema(db);
    recorded = {
      ...db,
      execute: (sql: string, options?: ExecuteOptions) => {
        sent.push(sql);
        return db.execute(sql, options);
      },
    };
  }, 120_000);
  afterAll(async () => {
    await db.close();
  });

  it.each(hostileStatements.map((h) => [h.category, h.sql] as const))("refuses %s: %s", async (_category, sql) => {
    for (const variant of [sql, sql.toLowerCase(), `\n\t ${sql}  -- trailing`]) {
      const result = await validateSql(variant, { schema, executor: recorded });
      expect(result.valid).toBe(false);
      expect(result.errors.length).toBeGreaterThan(0);
      for (const e of result.errors) {
        expect(e.code).toMatch(/^unsafe_/);
        expect(e.hint).toMatch(/\S/);
      }
    }
    expect(sent).toEqual([]);
  });

  it("a refused statement is never planned: the database gets nothing while a safe query is planned", async () => {
    expect((await validateSql("SELECT count(*) FROM gl_accounts", { schema, executor: recorded })).valid).toBe(true);
    expect(sent).toEqual(["EXPLAIN (FORMAT JSON) SELECT count(*) FROM gl_accounts"]);
  });
});
