/**
 * The MCP server over streamable HTTP (`gl-rl mcp --http <port>`), with the two guards a network-reachable tool
 * server needs (docs/serving.md, "The MCP server over HTTP"):
 *
 * 1. Where it listens: 127.0.0.1 unless told otherwise. Any other bind address needs a bearer token
 *    (`GL_RL_MCP_TOKEN`); without one the server refuses to start.
 * 2. Every request: when a token is set, `Authorization: Bearer <token>` must carry it (compared in constant
 *    time) — else 401 with `WWW-Authenticate: Bearer`. Then the transport's DNS-rebinding protection: the Host
 *    header must be one of the allowed hosts (the bind address and, on loopback, `localhost`/`127.0.0.1`/`[::1]`,
 *    each with the port, plus `allowedHosts`), and an Origin header, when sent, one of those as `http://…` —
 *    else 403. A web page on another site cannot reach a server on the user's loopback through the browser.
 *
 * Stateless streamable HTTP: each POST gets a fresh `McpServer` + transport pair (the SDK's stateless mode);
 * the agent and database behind the tools are shared, so no state is lost between requests.
 *
 * @example
 * const http = await listenMcpHttp({ port: 8765, createServer: () => createMcpServer({ agent, db }) });
 * // … later
 * await http.close();
 */
import { timingSafeEqual } from "node:crypto";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { InputError } from "../errors.js";

export interface McpHttpOptions {
  /** TCP port; 0 picks a free one (the result says which). */
  port: number;
  /** Bind address. Default 127.0.0.1. */
  host?: string;
  /** Bearer token every request must carry; required when `host` is not a loopback address. */
  token?: string;
  /** More Host header values to accept (`name:port`), e.g. a reverse proxy's name. */
  allowedHosts?: string[];
  /** One MCP server per request (stateless mode); the tools' agent and database are shared. */
  createServer(): McpServer;
}

export interface McpHttpServer {
  /** `http://<host>:<port>/mcp` */
  url: string;
  port: number;
  close(): Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** A non-loopback bind without a token is unusable input (InputError with the fix). */
export function requireTokenForBind(host: string, token: string | undefined): void {
  if (!isLoopback(host) && !token)
    throw new InputError(`gl-rl mcp --http on ${host} (not loopback) needs a bearer token`, {
      hint: "set GL_RL_MCP_TOKEN to a long random string (e.g. `openssl rand -hex 32`) and give clients the same token; or drop --host to bind 127.0.0.1",
    });
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/i.exec(header ?? "")?.[1] ?? "");
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function reply(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }));
}

/** Starts the HTTP server; resolves once it listens. Refuses a non-loopback bind without a token (InputError). */
export async function listenMcpHttp(options: McpHttpOptions): Promise<McpHttpServer> {
  const host = options.host ?? "127.0.0.1";
  const token = options.token && options.token.length > 0 ? options.token : undefined;
  requireTokenForBind(host, token);

  let allowedHosts: string[] = [];
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) reply(res, 500, error instanceof Error ? error.message : String(error));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (new URL(req.url ?? "/", "http://x").pathname !== "/mcp")
      return reply(res, 404, "not found: the MCP endpoint is /mcp");
    if (token !== undefined && !bearerMatches(req.headers.authorization, token))
      return reply(res, 401, "unauthorized: send Authorization: Bearer <GL_RL_MCP_TOKEN>", {
        "www-authenticate": 'Bearer realm="gl-rl"',
      });
    if (req.method !== "POST")
      return reply(res, 405, "method not allowed: this server is stateless, POST JSON-RPC to /mcp", { allow: "POST" });
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
      enableDnsRebindingProtection: true,
      allowedHosts,
      allowedOrigins: allowedHosts.map((h) => `http://${h}`),
    });
    const mcp = options.createServer();
    res.on("close", () => {
      void transport.close();
      void mcp.close();
    });
    await mcp.connect(transport);
    await transport.handleRequest(req, res);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const names = isLoopback(host) ? ["127.0.0.1", "localhost", "[::1]"] : [host.includes(":") ? `[${host}]` : host];
  allowedHosts = [...names.map((n) => `${n}:${port}`), ...(options.allowedHosts ?? [])];
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}/mcp`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
