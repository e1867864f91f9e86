/**
 * `gl-rl mcp [--http <port>] [--host <addr>] [--allowed-hosts <name:port,…>] [--model <gguf|hf:…|openai:…>]
 *  [--adapter <gguf>] [--db demo|pglite:<dir>|postgres://…] [--candidates N] [--prompt <style>] [--timeout <ms>]
 *  [--checkpointer memory|postgres://…|pglite:<dir>] [--gpu …]` — gl-rl's agent and SQL tools as a Model Context
 * Protocol server (integrations/mcpServer.ts): `ask`, `validate_sql`, `execute_sql`, `list_tables`,
 * `describe_table`.
 *
 * Stdio by default (the client starts the process; stdout carries the protocol, so every log line goes to
 * stderr). `--http <port>`: streamable HTTP on 127.0.0.1:<port>/mcp (integrations/mcpHttpServer.ts); another
 * `--host` needs `GL_RL_MCP_TOKEN`. The ask flags are read exactly as `gl-rl ask` reads them (cli/openCliAgent.ts).
 * Runs until stdin closes (stdio) or SIGINT/SIGTERM, then closes the model and the database.
 * Exit codes: 0 stopped cleanly; 2 unusable input (bad flags, a missing model, a non-loopback bind without a token).
 */
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { InputError } from "../../errors.js";
import { listenMcpHttp, requireTokenForBind } from "../../integrations/mcpHttpServer.js";
import { createMcpServer } from "../../integrations/mcpServer.js";
import { defaultBusinessRules } from "../../sql/businessRules.js";
import { AGENT_FLAGS, openCliAgent } from "../openCliAgent.js";
import { parseCommandArgs, parseIntegerFlag } from "../parseCommandArgs.js";

function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { ...AGENT_FLAGS, http: { type: "string" }, host: { type: "string" }, "allowed-hosts": { type: "string" } },
    "gl-rl mcp",
  );
  if (positionals.length > 0)
    throw new InputError(`gl-rl mcp takes no arguments, got '${positionals[0]}'`, {
      hint: "gl-rl mcp [--http <port>] [--model …] [--db …]",
    });
  const http = values.http as string | undefined;
  const port = http === undefined ? undefined : parseIntegerFlag(http, "http", 0);
  if (port !== undefined && (port < 0 || port > 65535))
    throw new InputError(`--http must be a TCP port (0-65535), got ${port}`, { hint: "e.g. --http 8765" });
  if (port === undefined && (values.host !== undefined || values["allowed-hosts"] !== undefined))
    throw new InputError("--host and --allowed-hosts apply to --http only", { hint: "add --http <port>" });

  const host = values.host as string | undefined;
  if (host !== undefined) requireTokenForBind(host, process.env.GL_RL_MCP_TOKEN); // before the model loads

  const { agent, db, dbSpec, close } = await openCliAgent(values, "gl-rl mcp");
  const createServer = () =>
    createMcpServer({
      agent,
      db,
      businessRules: defaultBusinessRules(dbSpec),
      version: process.env.npm_package_version,
    });
  try {
    if (port === undefined) {
      const transport = new StdioServerTransport();
      const closed = new Promise<void>((resolve) => {
        transport.onclose = () => resolve();
        process.stdin.once("end", () => resolve());
      });
      await createServer().connect(transport);
      process.stderr.write(`gl-rl mcp: serving on stdio (${db.description})\n`);
      await Promise.race([closed, stopSignal()]);
      return 0;
    }
    const server = await listenMcpHttp({
      port,
      ...(host ? { host } : {}),
      ...(process.env.GL_RL_MCP_TOKEN ? { token: process.env.GL_RL_MCP_TOKEN } : {}),
      ...(values["allowed-hosts"] ? { allowedHosts: (values["allowed-hosts"] as string).split(",") } : {}),
      createServer,
    });
    process.stderr.write(`gl-rl mcp: listening on ${server.url} (${db.description})\n`);
    await stopSignal();
    await server.close();
    return 0;
  } finally {
    await close();
  }
}
