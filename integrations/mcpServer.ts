/**
 * gl-rl as Model Context Protocol tools (the official SDK's `McpServer`), for agent apps that speak MCP:
 *
 *   ask            { question, evidence? }  the agents' answer: SQL, rows, confidence, explanation, warnings
 *   validate_sql   { sql }                  the validator's verdict: valid, errors, warnings (with hints)
 *   execute_sql    { sql }                  rows, rowCount, truncated, columns — after the same default-deny
 *                                           guard as `gl-rl exec` (sql/refuseUnsafe.ts) and in its sandbox
 *   list_tables    {}                       the database's tables: schema, name, columns, comment
 *   describe_table { table }                one table: columns, keys, comment and its CREATE TABLE text
 *
 * Every result is JSON twice, as the protocol asks of a tool with an output schema: text content (for
 * clients that read text) and `structuredContent` (checked against the schema). Failures are tool
 * results with `isError: true` and `{ "error": { code, message, hint } }` as text — a bad argument (the
 * SDK's schema check), a refused or failing statement, an unknown table — never a protocol error or a dead
 * server. A non-gl-rl failure (a bug) is reported the same way with code `internal`.
 *
 * Results are bounded as every execution is: the executor's row cap and `maxResultBytes`.
 * One server per connection (a transport serves one `McpServer`); the agent and database are shared.
 *
 * @example
 * const server = createMcpServer({ agent, db, businessRules: defaultBusinessRules("demo") });
 * await server.connect(new StdioServerTransport());
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { InputError, isGlRlError } from "../errors.js";
import type { Text2SqlAgent } from "../orchestrator/text2sqlAgent.js";
import { storedOutcome } from "../orchestrator/text2sqlState.js";
import type { BusinessRule } from "../sql/businessRules.js";
import { refuseUnsafe } from "../sql/refuseUnsafe.js";
import { findTable, introspectSchema, schemaDdl } from "../sql/schemaModel.js";
import { type QueryResult, queryResultRows, type SqlExecutor } from "../sql/sqlExecutor.js";
import { nearestNames, validateSql } from "../sql/validateSql.js";
import { ANSWER_JSON_SHAPE, answerJson } from "./answerJson.js";

export interface McpServerOptions {
  agent: Text2SqlAgent;
  /** The database the agent asks; the SQL tools run on it too. */
  db: SqlExecutor;
  /** The validator's business rules for `validate_sql` (defaultBusinessRules(spec)). */
  businessRules?: readonly BusinessRule[];
  /** Server name and version reported to clients. */
  name?: string;
  version?: string;
}

const issue = z.object({ code: z.string(), message: z.string(), hint: z.string().optional() });
const column = z.object({ name: z.string(), type: z.string(), nullable: z.boolean(), comment: z.string().optional() });
const tableSummary = {
  schema: z.string(),
  name: z.string(),
  comment: z.string().optional(),
  columns: z.array(z.string()).describe("column names, in table order"),
};

/** A tool result: the value as JSON text and as structured content. */
function ok(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify(value) }], structuredContent: value };
}

/** A tool error: `{ error: { code, message, hint } }` as text, `isError: true`. */
function failed(error: unknown): CallToolResult {
  const json = isGlRlError(error)
    ? error.toJSON()
    : { code: "internal", message: error instanceof Error ? error.message : String(error) };
  return { content: [{ type: "text", text: JSON.stringify({ error: json }) }], isError: true };
}

/** Runs a tool body; any throw becomes a tool error (see the file comment). */
async function guarded(body: () => Promise<Record<string, unknown>>): Promise<CallToolResult> {
  try {
    return ok(await body());
  } catch (error) {
    return failed(error);
  }
}

export function createMcpServer(options: McpServerOptions): McpServer {
  const { agent, db } = options;
  const businessRules = options.businessRules ?? [];
  const server = new McpServer({ name: options.name ?? "gl-rl", version: options.version ?? "0.0.0" });
  const sqlArg = { sql: z.string().min(1).describe("one PostgreSQL SELECT statement") };

  server.registerTool(
    "ask",
    {
      title: "Ask the database a question",
      description:
        "Answers a question about the database with SQL written, validated and executed (read-only, sandboxed) " +
        "by gl-rl's agents. Returns the SQL, its result rows, a confidence 0..1 and warnings; sql is null when " +
        "the question could not be answered (error says why).",
      inputSchema: {
        question: z.string().min(1).describe("the question in plain language"),
        evidence: z.string().optional().describe("business definitions that help, e.g. 'active means status = A'"),
      },
      outputSchema: ANSWER_JSON_SHAPE,
    },
    ({ question, evidence }, extra) =>
      guarded(async () =>
        answerJson(await agent.ask(question, { ...(evidence ? { evidence } : {}), signal: extra.signal })),
      ),
  );

  server.registerTool(
    "validate_sql",
    {
      title: "Validate SQL",
      description:
        "Checks one SQL statement against the database without running it: syntax, tables and columns (with " +
        "'did you mean' hints), the read-only safety policy, PostgreSQL's planner and business rules.",
      inputSchema: sqlArg,
      outputSchema: { valid: z.boolean(), errors: z.array(issue), warnings: z.array(issue) },
    },
    ({ sql }) =>
      guarded(async () => {
        const { valid, errors, warnings } = await validateSql(sql, {
          schema: await introspectSchema(db),
          executor: db,
          businessRules,
        });
        return { valid, errors, warnings };
      }),
  );

  server.registerTool(
    "execute_sql",
    {
      title: "Execute SQL (read-only)",
      description:
        "Runs one read-only SELECT after the default-deny safety policy, in a read-only transaction with a time " +
        "limit, a row cap and a size cap; a refused or failing statement is an error with a hint.",
      inputSchema: sqlArg,
      outputSchema: {
        rows: z.array(z.record(z.string(), z.unknown())),
        rowCount: z.number().int(),
        truncated: z.boolean().describe("true when the row or size cap cut the result"),
        columns: z.array(z.object({ name: z.string(), type: z.string() })),
        warning: z.string().optional(),
      },
    },
    ({ sql }) =>
      guarded(async () => {
        await refuseUnsafe(sql);
        // Cells made JSON-safe as the agent's state keeps them (bigint, Date, bytes); a success stays one.
        const { result } = storedOutcome({ ok: true, result: await db.execute(sql) }) as { result: QueryResult };
        return {
          rows: queryResultRows(result),
          rowCount: result.rowCount,
          truncated: result.truncated,
          columns: result.columns,
          ...(result.warning ? { warning: result.warning } : {}),
        };
      }),
  );

  server.registerTool(
    "list_tables",
    {
      title: "List tables",
      description: "The database's tables, with their column names and comments.",
      inputSchema: {},
      outputSchema: { tables: z.array(z.object(tableSummary)) },
    },
    () =>
      guarded(async () => ({
        tables: (await introspectSchema(db)).tables.map((t) => ({
          schema: t.schema,
          name: t.name,
          ...(t.comment ? { comment: t.comment } : {}),
          columns: t.columns.map((c) => c.name),
        })),
      })),
  );

  server.registerTool(
    "describe_table",
    {
      title: "Describe a table",
      description: "One table's columns (type, nullability, comment), primary and foreign keys, and its DDL.",
      inputSchema: { table: z.string().min(1).describe("a table name, optionally schema-qualified") },
      outputSchema: {
        schema: z.string(),
        name: z.string(),
        comment: z.string().optional(),
        columns: z.array(column),
        primaryKey: z.array(z.string()),
        foreignKeys: z.array(
          z.object({ columns: z.array(z.string()), refTable: z.string(), refColumns: z.array(z.string()) }),
        ),
        ddl: z.string(),
      },
    },
    ({ table }) =>
      guarded(async () => {
        const schema = await introspectSchema(db);
        const found = findTable(schema, table);
        if (!found) {
          const names = schema.tables.map((t) => (t.schema === "public" ? t.name : `${t.schema}.${t.name}`));
          const near = nearestNames(table, names);
          throw new InputError(`no table '${table}' in ${db.description}`, {
            hint: near.length > 0 ? `did you mean ${near.join(" or ")}?` : "list_tables names the tables",
          });
        }
        const qualified = found.schema === "public" ? found.name : `${found.schema}.${found.name}`;
        return { ...found, ddl: schemaDdl(schema, [qualified]) };
      }),
  );

  return server;
}
