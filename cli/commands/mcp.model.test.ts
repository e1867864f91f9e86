// `gl-rl mcp` through the real binary and the MCP SDK's own client: stdio (the client spawns the server) and
// streamable HTTP (token and Host/Origin checks, both ways). Tiny demo model, demo PGlite database.
import { request } from "node:http";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { startMcpHttp, stopChild } from "../../test/mcpHttp.js";
import { runGlRl } from "../runGlRl.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

type Json = Record<string, unknown>;
const call = async (client: Client, name: string, args: Json = {}) =>
  (await client.callTool({ name, arguments: args })) as CallToolResult;
const textJson = (result: CallToolResult): Json => JSON.parse((result.content[0] as { text: string }).text) as Json;

describe("gl-rl mcp over stdio", () => {
  let client: Client;

  beforeAll(async () => {
    client = new Client({ name: "gl-rl-test", version: "1.0.0" });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: ["bin/gl-rl.mjs", "mcp"],
        cwd: ROOT,
        env: { ...(process.env as Record<string, string>) },
        stderr: "ignore",
      }),
    );
  }, 120_000);

  afterAll(async () => {
    await client?.close();
  });

  test("lists exactly the five tools, each with an input and an output schema", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      "ask",
      "describe_table",
      "execute_sql",
      "list_tables",
      "validate_sql",
    ]);
    for (const t of tools) expect(t.outputSchema?.type).toBe("object");
    const ask = tools.find((t) => t.name === "ask")!;
    expect(ask.inputSchema.required).toEqual(["question"]);
    expect(Object.keys(ask.inputSchema.properties ?? {}).sort()).toEqual(["evidence", "question"]);
  });

  test("ask answers with SQL and rows, as text JSON and as structuredContent", async () => {
    const result = await call(client, "ask", { question: "How many active projects are there?" });
    expect(result.isError).toBeFalsy();
    const answer = result.structuredContent as {
      sql: string | null;
      rows: Json[];
      confidence: number;
      warnings: string[];
    };
    expect(textJson(result)).toEqual(answer);
    expect(answer.sql).toMatch(/SELECT/i);
    expect(answer.rows.length).toBeGreaterThan(0);
    expect(answer.confidence).toBeGreaterThan(0);
    expect(Array.isArray(answer.warnings)).toBe(true);
  }, 120_000);

  test("execute_sql runs a SELECT and refuses a write as a tool error; the server stays up", async () => {
    const rows = await call(client, "execute_sql", { sql: "SELECT count(*) AS n FROM projects" });
    expect(rows.isError).toBeFalsy();
    const ok = rows.structuredContent as { rows: Json[]; rowCount: number; truncated: boolean };
    expect(ok.rowCount).toBe(1);
    expect(Number(ok.rows[0]!.n)).toBeGreaterThan(0);

    const refused = await call(client, "execute_sql", { sql: "DELETE FROM projects" });
    expect(refused.isError).toBe(true);
    expect((textJson(refused).error as Json).message).toMatch(/DELETE|read-only|refused|not allowed/i);

    const after = await call(client, "execute_sql", { sql: "SELECT count(*) AS n FROM projects" });
    expect((after.structuredContent as { rows: Json[] }).rows).toEqual(ok.rows);
  });

  test("validate_sql reports an unknown column with a hint; a bad argument is a tool error", async () => {
    const bad = await call(client, "validate_sql", { sql: "SELECT nme FROM projects" });
    expect(bad.isError).toBeFalsy();
    const verdict = bad.structuredContent as { valid: boolean; errors: { message: string; hint?: string }[] };
    expect(verdict.valid).toBe(false);
    expect(verdict.errors[0]!.message).toMatch(/nme/);

    const good = await call(client, "validate_sql", { sql: "SELECT name FROM projects" });
    expect((good.structuredContent as { valid: boolean }).valid).toBe(true);

    const missing = await call(client, "validate_sql", {});
    expect(missing.isError).toBe(true);
  });

  test("list_tables and describe_table; an unknown table is a tool error with a suggestion", async () => {
    const list = (await call(client, "list_tables")).structuredContent as { tables: { name: string }[] };
    expect(list.tables.map((t) => t.name)).toContain("projects");
    const projects = (await call(client, "describe_table", { table: "projects" })).structuredContent as {
      columns: { name: string }[];
      primaryKey: string[];
      ddl: string;
    };
    expect(projects.columns.map((c) => c.name)).toContain("status");
    expect(projects.primaryKey).toEqual(["project_id"]);
    expect(projects.ddl).toMatch(/CREATE TABLE/i);
    const unknown = await call(client, "describe_table", { table: "projets" });
    expect(unknown.isError).toBe(true);
    expect((textJson(unknown).error as Json).hint).toMatch(/projects/);
  });
});

/** An MCP initialize POST; node:http, because fetch may not set Host (a forbidden header there). */
const initialize = (url: string, headers: Record<string, string>) =>
  new Promise<{ status: number }>((resolve, reject) => {
    const body = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
    });
    const req = request(
      url,
      {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0 }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });

describe("gl-rl mcp --http", () => {
  test("loopback without a token: the SDK client calls tools; a foreign Host or Origin is refused (403)", async () => {
    const { child, url } = await startMcpHttp([]);
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
      const client = new Client({ name: "gl-rl-test", version: "1.0.0" });
      await client.connect(new StreamableHTTPClientTransport(new URL(url)));
      const tables = (await call(client, "list_tables")).structuredContent as { tables: unknown[] };
      expect(tables.tables.length).toBeGreaterThan(5);
      await client.close();

      expect((await initialize(url, {})).status).toBe(200);
      expect((await initialize(url, { origin: new URL(url).origin })).status).toBe(200);
      // DNS rebinding: a page on evil.example resolved to 127.0.0.1 sends its own Host and Origin.
      expect((await initialize(url, { host: "evil.example:80" })).status).toBe(403);
      expect((await initialize(url, { origin: "http://evil.example" })).status).toBe(403);
    } finally {
      await stopChild(child);
    }
  }, 120_000);

  test("with GL_RL_MCP_TOKEN: 401 without or with a wrong token, the tools with the right one", async () => {
    const token = "t0k3n-for-the-test-0123456789";
    const { child, url } = await startMcpHttp([], { GL_RL_MCP_TOKEN: token });
    try {
      expect((await initialize(url, {})).status).toBe(401);
      expect((await initialize(url, { authorization: "Bearer wrong" })).status).toBe(401);
      expect((await initialize(url, { authorization: `Bearer ${token}` })).status).toBe(200);
      const client = new Client({ name: "gl-rl-test", version: "1.0.0" });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(url), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      const result = await call(client, "execute_sql", { sql: "SELECT 1 AS one" });
      expect((result.structuredContent as { rows: Json[] }).rows).toEqual([{ one: 1 }]);
      await client.close();
    } finally {
      await stopChild(child);
    }
  }, 120_000);

  test("a non-loopback bind without a token is refused at start (exit 2, a hint)", async () => {
    const { code, stderr } = await runGlRl(["mcp", "--http", "0", "--host", "0.0.0.0"], { timeoutMs: 90_000 });
    expect(code).toBe(2);
    expect(stderr).toMatch(/GL_RL_MCP_TOKEN/);
  }, 120_000);
});
