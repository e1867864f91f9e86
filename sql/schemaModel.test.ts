// schemaFromDdl on data/schema.sql against introspectSchema on the seeded demo database (real PGlite).
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { readFile } from "node:fs/promises";
import { InputError } from "../errors.js";
import { openDatabase } from "./openDatabase.js";
import {
  findTable,
  introspectSchema,
  schemaDdl,
  schemaFromDdl,
  splitStatements,
  type SchemaModel,
} from "./schemaModel.js";
import type { SqlExecutor } from "./sqlExecutor.js";

const DDL_URL = new URL("../data/schema.sql", import.meta.url);

describe("schemaModel", () => {
  let ddl: string;
  let fromDdl: SchemaModel;
  let db: SqlExecutor;
  let live: SchemaModel;
  beforeAll(async () => {
    ddl = await readFile(DDL_URL, "utf8");
    fromDdl = schemaFromDdl(ddl);
    db = await openDatabase("demo");
    live = await introspectSchema(db);
  }, 120_000);
  afterAll(async () => {
    await db.close();
  });

  it("reads every CREATE TABLE of data/schema.sql with keys and comments", () => {
    const creates = ddl.match(/^CREATE TABLE/gm)!.length;
    expect(fromDdl.tables).toHaveLength(creates);
    const lines = findTable(fromDdl, "journal_lines")!;
    expect(lines.columns.map((c) => c.name)).toEqual([
      "line_id",
      "entry_id",
      "account_id",
      "project_id",
      "debit",
      "credit",
      "memo",
    ]);
    expect(lines.columns.find((c) => c.name === "debit")).toMatchObject({ type: "numeric(14,2)", nullable: false });
    expect(lines.columns.find((c) => c.name === "project_id")).toMatchObject({
      nullable: true,
      comment: expect.stringMatching(/project/),
    });
    expect(lines.primaryKey).toEqual(["line_id"]);
    expect(lines.foreignKeys).toContainEqual({
      columns: ["account_id"],
      refTable: "gl_accounts",
      refColumns: ["account_id"],
    });
    expect(findTable(fromDdl, "budgets")!.primaryKey).toEqual(["project_id", "account_id", "fiscal_year"]);
    expect(findTable(fromDdl, "companies")!.columns.find((c) => c.name === "currency")!.type).toBe("character(3)");
  });

  it("the introspected demo database has the same tables, columns, keys and fingerprint", () => {
    const names = (m: SchemaModel): string[] => m.tables.map((t) => `${t.schema}.${t.name}`);
    expect(names(live)).toEqual(names(fromDdl));
    for (const table of fromDdl.tables) {
      const other = findTable(live, table.name)!;
      expect(other.columns.map((c) => [c.name, c.type, c.nullable])).toEqual(
        table.columns.map((c) => [c.name, c.type, c.nullable]),
      );
      expect(other.primaryKey).toEqual(table.primaryKey);
      expect(other.columns.map((c) => c.comment)).toEqual(table.columns.map((c) => c.comment));
    }
    expect(live.fingerprint).toBe(fromDdl.fingerprint);
    expect(live.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it("the fingerprint changes with a column", () => {
    const changed = schemaFromDdl(ddl.replace("memo       text", "memo       varchar(10)"));
    expect(changed.fingerprint).not.toBe(fromDdl.fingerprint);
  });

  it("schemaDdl of a subset round-trips through schemaFromDdl", () => {
    const text = schemaDdl(fromDdl, ["projects", "customers"]);
    expect(text).toMatch(/^CREATE TABLE projects \(/);
    expect(text).toContain("COMMENT ON COLUMN projects.budget IS");
    const again = schemaFromDdl(text);
    expect(again.tables.map((t) => t.name)).toEqual(["customers", "projects"]);
    expect(findTable(again, "projects")).toEqual(findTable(fromDdl, "projects"));
    expect(() => schemaDdl(fromDdl, ["nope"])).toThrow(InputError);
  });

  it("skips what the parser cannot read and refuses DDL without tables", () => {
    const model = schemaFromDdl(
      'CREATE EXTENSION IF NOT EXISTS foo WITH SCHEMA bar CASCADE; CREATE TABLE s.t ("Big Col" real, a int PRIMARY KEY); FROB x;',
    );
    expect(model.tables).toEqual([
      {
        schema: "s",
        name: "t",
        columns: [
          { name: "Big Col", type: "real", nullable: true },
          { name: "a", type: "integer", nullable: false },
        ],
        primaryKey: ["a"],
        foreignKeys: [],
      },
    ]);
    expect(findTable(model, "T")?.name).toBe("t");
    expect(findTable(model, "s.t")?.name).toBe("t");
    expect(() => schemaFromDdl("SELECT 1")).toThrow(InputError);
    expect(splitStatements("SELECT ';'; SELECT $x$;$x$; -- ;\nSELECT \"a;b\"")).toHaveLength(3);
  });
});
