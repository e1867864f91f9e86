/**
 * schemaModel — what the validator and the prompts know about a database: tables, columns (type,
 * nullability, comment), primary and foreign keys, and a fingerprint that changes when any of them does.
 *
 * Two sources give the same model:
 * 1. `schemaFromDdl(ddl)`: each statement is split off (outside strings, quoted names, comments and
 *    dollar bodies) and parsed alone with pgsql-ast-parser; CREATE TABLE and COMMENT ON TABLE/COLUMN are
 *    used, everything else (indexes, statements the parser does not know) is skipped.
 * 2. `introspectSchema(executor)`: two read-only catalog queries (pg_class/pg_attribute for columns,
 *    pg_constraint for keys) through `executor.execute`.
 * Types are normalised to PostgreSQL's `format_type` spelling (`char(3)` → `character(3)`, `int` →
 * `integer`…) so both agree. fingerprint = sha256 (hex) of the canonical JSON of the tables sorted by
 * schema.name, with columns in table order, primary key and foreign keys (comments excluded).
 *
 * @example
 * const schema = schemaFromDdl(await readFile("data/schema.sql", "utf8"));
 * findTable(schema, "projects")?.columns.map((c) => c.name); // ["project_id", "project_code", …]
 * schemaDdl(schema, ["projects"]); // "CREATE TABLE projects (\n  project_id integer NOT NULL, …"
 */
import { createHash } from "node:crypto";
import { parse, type CreateTableStatement, type DataTypeDef, type Statement } from "pgsql-ast-parser";
import { DatabaseError, InputError } from "../errors.js";
import type { SqlExecutor } from "./sqlExecutor.js";

export interface SchemaColumn {
  name: string;
  /** PostgreSQL type as `format_type` spells it: `integer`, `numeric(14,2)`, `character(3)`… */
  type: string;
  nullable: boolean;
  comment?: string;
}

export interface SchemaForeignKey {
  columns: string[];
  /** The referenced table, `schema.name` when it is not in `public`. */
  refTable: string;
  refColumns: string[];
}

export interface SchemaTable {
  /** `public` unless the DDL or the database says otherwise. */
  schema: string;
  name: string;
  columns: SchemaColumn[];
  primaryKey: string[];
  foreignKeys: SchemaForeignKey[];
  comment?: string;
}

export interface SchemaModel {
  tables: SchemaTable[];
  /** sha256 (hex) of the canonical form; equal models have equal fingerprints. */
  fingerprint: string;
}

const DEFAULT_SCHEMA = "public";

// ─── types ─────────────────────────────────────────────────────────────────────────────────────────

const TYPE_ALIASES: Readonly<Record<string, string>> = {
  int: "integer",
  int4: "integer",
  int2: "smallint",
  int8: "bigint",
  serial: "integer",
  bigserial: "bigint",
  smallserial: "smallint",
  float8: "double precision",
  float: "double precision",
  float4: "real",
  bool: "boolean",
  char: "character",
  bpchar: "character",
  varchar: "character varying",
  decimal: "numeric",
  timestamp: "timestamp without time zone",
  timestamptz: "timestamp with time zone",
  time: "time without time zone",
  timetz: "time with time zone",
};

/** Normalises a type name to `format_type` spelling; `config` are its modifiers (`numeric(14,2)`). */
export function normaliseType(name: string, config: readonly number[] = []): string {
  const base = name.trim().toLowerCase().replace(/\s+/g, " ");
  const canonical = TYPE_ALIASES[base] ?? base;
  const modifiers = config.length > 0 ? `(${config.join(",")})` : base === "char" || base === "character" ? "(1)" : "";
  if (modifiers !== "" && canonical.endsWith(" zone")) {
    const [head, ...rest] = canonical.split(" ");
    return `${head}${modifiers} ${rest.join(" ")}`;
  }
  return `${canonical}${modifiers}`;
}

function dataTypeText(dataType: DataTypeDef): string {
  if (dataType.kind === "array") return `${dataTypeText(dataType.arrayOf)}[]`;
  return normaliseType(dataType.name, dataType.config ?? []);
}

// ─── model building ────────────────────────────────────────────────────────────────────────────────

function canonicalForm(tables: readonly SchemaTable[]): string {
  return JSON.stringify(
    tables.map((t) => [
      t.schema,
      t.name,
      t.columns.map((c) => [c.name, c.type, c.nullable]),
      t.primaryKey,
      t.foreignKeys.map((f) => JSON.stringify([f.columns, f.refTable, f.refColumns])).sort(),
    ]),
  );
}

/** Sorts the tables and computes the fingerprint. */
export function createSchemaModel(tables: readonly SchemaTable[]): SchemaModel {
  const sorted = [...tables].sort((a, b) => `${a.schema}.${a.name}`.localeCompare(`${b.schema}.${b.name}`));
  return { tables: sorted, fingerprint: createHash("sha256").update(canonicalForm(sorted)).digest("hex") };
}

function qualifiedName(schema: string | undefined, name: string): string {
  return schema === undefined || schema === DEFAULT_SCHEMA ? name : `${schema}.${name}`;
}

// ─── DDL ───────────────────────────────────────────────────────────────────────────────────────────

/** Splits SQL text on `;` outside strings, quoted names, comments and dollar-quoted bodies. */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (c === "-" && sql[i + 1] === "-") {
      while (i < n && sql[i] !== "\n") i++;
    } else if (c === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === "'" || c === '"') {
      i++;
      while (i < n && !(sql[i] === c && sql[i + 1] !== c)) i += sql[i] === c ? 2 : 1;
      i++;
    } else if (c === "$") {
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i, i + 64));
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        i = end < 0 ? n : end + tag[0].length;
      } else i++;
    } else if (c === ";") {
      statements.push(sql.slice(start, i));
      start = ++i;
    } else i++;
  }
  statements.push(sql.slice(start));
  return statements.filter((s) => s.replace(/--[^\n]*/g, "").trim() !== "");
}

function parseOne(text: string): Statement | null {
  try {
    const parsed = parse(text);
    return parsed.length === 1 ? parsed[0]! : null;
  } catch {
    return null;
  }
}

function tableFromCreate(statement: CreateTableStatement): SchemaTable {
  const schema = statement.name.schema ?? DEFAULT_SCHEMA;
  const primaryKey: string[] = [];
  const foreignKeys: SchemaForeignKey[] = [];
  const columns: SchemaColumn[] = [];
  for (const item of statement.columns) {
    if (item.kind !== "column") continue;
    let nullable = true;
    for (const constraint of item.constraints ?? []) {
      if (constraint.type === "not null") nullable = false;
      else if (constraint.type === "primary key") {
        nullable = false;
        primaryKey.push(item.name.name);
      } else if (constraint.type === "reference") {
        foreignKeys.push({
          columns: [item.name.name],
          refTable: qualifiedName(constraint.foreignTable.schema, constraint.foreignTable.name),
          refColumns: constraint.foreignColumns.map((c) => c.name),
        });
      }
    }
    columns.push({ name: item.name.name, type: dataTypeText(item.dataType), nullable });
  }
  for (const constraint of statement.constraints ?? []) {
    if (constraint.type === "primary key") primaryKey.push(...constraint.columns.map((c) => c.name));
    else if (constraint.type === "foreign key") {
      foreignKeys.push({
        columns: constraint.localColumns.map((c) => c.name),
        refTable: qualifiedName(constraint.foreignTable.schema, constraint.foreignTable.name),
        refColumns: constraint.foreignColumns.map((c) => c.name),
      });
    }
  }
  for (const column of columns) if (primaryKey.includes(column.name)) column.nullable = false;
  return { schema, name: statement.name.name, columns, primaryKey, foreignKeys };
}

/**
 * The schema model of a DDL script (CREATE TABLE + COMMENT ON); statements the parser cannot read are
 * skipped. Throws `InputError` when the text holds no CREATE TABLE at all.
 */
export function schemaFromDdl(ddl: string): SchemaModel {
  const tables: SchemaTable[] = [];
  const comments: { table: string; column?: string; text: string }[] = [];
  for (const text of splitStatements(ddl)) {
    const statement = parseOne(text);
    if (statement === null) continue;
    if (statement.type === "create table") tables.push(tableFromCreate(statement));
    else if (statement.type === "comment") {
      const on = statement.on;
      if (on.type === "table")
        comments.push({ table: qualifiedName(on.name.schema, on.name.name), text: statement.comment });
      else if (on.type === "column")
        comments.push({
          table: qualifiedName(on.column.schema, on.column.table),
          column: on.column.column,
          text: statement.comment,
        });
    }
  }
  if (tables.length === 0) {
    throw new InputError("the DDL holds no CREATE TABLE statement that pgsql-ast-parser can read", {
      hint: "pass PostgreSQL DDL (CREATE TABLE …), or introspect a live database with introspectSchema(executor)",
    });
  }
  for (const comment of comments) {
    const table = tables.find((t) => qualifiedName(t.schema, t.name) === comment.table);
    if (table === undefined) continue;
    if (comment.column === undefined) table.comment = comment.text;
    else {
      const column = table.columns.find((c) => c.name === comment.column);
      if (column !== undefined) column.comment = comment.text;
    }
  }
  return createSchemaModel(tables);
}

// ─── introspection ─────────────────────────────────────────────────────────────────────────────────

const SEP = "\u001f";
const USER_RELATIONS = `c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'`;

const COLUMNS_QUERY = `SELECT n.nspname, c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
  pg_catalog.col_description(c.oid, a.attnum), pg_catalog.obj_description(c.oid, 'pg_class')
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE ${USER_RELATIONS} ORDER BY 1, 2, a.attnum`;

const KEYS_QUERY = `SELECT n.nspname, c.relname, k.contype,
  array_to_string(ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(num, ord) JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num ORDER BY u.ord), E'${SEP}'),
  fn.nspname, fc.relname,
  array_to_string(ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(num, ord) JOIN pg_catalog.pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.num ORDER BY u.ord), E'${SEP}')
FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class c ON c.oid = k.conrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_class fc ON fc.oid = k.confrelid LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
WHERE k.contype IN ('p', 'f') AND ${USER_RELATIONS} ORDER BY 1, 2, k.conname`;

const INTROSPECT_LIMIT = 1_000_000;

/**
 * The schema model of a live database, read from pg_catalog through the executor (read-only,
 * sandboxed). Rejects with a `DatabaseError` when the catalog cannot be read.
 */
export async function introspectSchema(executor: Pick<SqlExecutor, "execute" | "description">): Promise<SchemaModel> {
  let columnRows: unknown[][];
  let keyRows: unknown[][];
  try {
    columnRows = (await executor.execute(COLUMNS_QUERY, { maxRows: INTROSPECT_LIMIT, timeoutMs: 30_000 })).rows;
    keyRows = (await executor.execute(KEYS_QUERY, { maxRows: INTROSPECT_LIMIT, timeoutMs: 30_000 })).rows;
  } catch (error) {
    throw new DatabaseError(
      "introspection_failed",
      `could not read the schema of ${executor.description}: ${error instanceof Error ? error.message : String(error)}`,
      {
        hint: "the role needs read access to pg_catalog; or build the model from DDL with schemaFromDdl()",
        cause: error,
      },
    );
  }
  const tables = new Map<string, SchemaTable>();
  for (const [schema, name, column, type, nullable, comment, tableComment] of columnRows as [
    string,
    string,
    string,
    string,
    boolean,
    string | null,
    string | null,
  ][]) {
    const key = `${schema}.${name}`;
    let table = tables.get(key);
    if (table === undefined) {
      table = { schema, name, columns: [], primaryKey: [], foreignKeys: [] };
      if (tableComment !== null) table.comment = tableComment;
      tables.set(key, table);
    }
    table.columns.push(comment === null ? { name: column, type, nullable } : { name: column, type, nullable, comment });
  }
  for (const [schema, name, kind, columns, refSchema, refName, refColumns] of keyRows as [
    string,
    string,
    string,
    string,
    string | null,
    string | null,
    string | null,
  ][]) {
    const table = tables.get(`${schema}.${name}`);
    if (table === undefined) continue;
    if (kind === "p") table.primaryKey = columns.split(SEP);
    else
      table.foreignKeys.push({
        columns: columns.split(SEP),
        refTable: qualifiedName(refSchema ?? undefined, refName ?? ""),
        refColumns: (refColumns ?? "").split(SEP),
      });
  }
  return createSchemaModel([...tables.values()]);
}

// ─── lookup and DDL text ───────────────────────────────────────────────────────────────────────────

/**
 * The table a (possibly schema-qualified) name denotes. An unqualified name matches `public` first,
 * then any schema; an exact match beats a case-insensitive one (quoted vs folded names).
 */
export function findTable(schema: SchemaModel, name: string, schemaName?: string): SchemaTable | undefined {
  let tableName = name;
  let namespace = schemaName;
  if (namespace === undefined && name.includes(".") && !schema.tables.some((t) => t.name === name)) {
    const dot = name.indexOf(".");
    namespace = name.slice(0, dot);
    tableName = name.slice(dot + 1);
  }
  const candidates = schema.tables.filter(
    (t) => namespace === undefined || t.schema === namespace || t.schema.toLowerCase() === namespace.toLowerCase(),
  );
  const exact = candidates.filter((t) => t.name === tableName);
  const pool = exact.length > 0 ? exact : candidates.filter((t) => t.name.toLowerCase() === tableName.toLowerCase());
  return pool.find((t) => t.schema === DEFAULT_SCHEMA) ?? pool[0];
}

/** The column of a table by name (exact first, then case-insensitive). */
export function findColumn(table: SchemaTable, name: string): SchemaColumn | undefined {
  return (
    table.columns.find((c) => c.name === name) ?? table.columns.find((c) => c.name.toLowerCase() === name.toLowerCase())
  );
}

function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * DDL text (CREATE TABLE with keys, then COMMENT ON lines) of the named tables, or of all of them —
 * what the schema-aware prompt shows. Unknown names throw `InputError`.
 */
export function schemaDdl(schema: SchemaModel, tables?: readonly string[]): string {
  const selected =
    tables === undefined
      ? schema.tables
      : tables.map((name) => {
          const table = findTable(schema, name);
          if (table === undefined)
            throw new InputError(`schemaDdl: no table '${name}' in the schema`, {
              hint: `known tables: ${schema.tables.map((t) => t.name).join(", ")}`,
            });
          return table;
        });
  return selected
    .map((table) => {
      const name =
        table.schema === DEFAULT_SCHEMA
          ? quoteIdent(table.name)
          : `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
      const lines = table.columns.map((c) => `  ${quoteIdent(c.name)} ${c.type}${c.nullable ? "" : " NOT NULL"}`);
      if (table.primaryKey.length > 0) lines.push(`  PRIMARY KEY (${table.primaryKey.map(quoteIdent).join(", ")})`);
      for (const fk of table.foreignKeys)
        lines.push(
          `  FOREIGN KEY (${fk.columns.map(quoteIdent).join(", ")}) REFERENCES ${fk.refTable.split(".").map(quoteIdent).join(".")} (${fk.refColumns.map(quoteIdent).join(", ")})`,
        );
      const out = [`CREATE TABLE ${name} (\n${lines.join(",\n")}\n);`];
      if (table.comment !== undefined) out.push(`COMMENT ON TABLE ${name} IS ${sqlString(table.comment)};`);
      for (const c of table.columns)
        if (c.comment !== undefined)
          out.push(`COMMENT ON COLUMN ${name}.${quoteIdent(c.name)} IS ${sqlString(c.comment)};`);
      return out.join("\n");
    })
    .join("\n\n");
}
