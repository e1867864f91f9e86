/**
 * A tiny loopback HTTP server for the remote-model tests: each request is answered by `handle` — a canned
 * answer (an HTML page, a 503, a 400) or `"forward"` to a real server (a proxy in front of llama-server).
 * It records every request (method, path, authorization header), so a test can count retries.
 *
 * @example
 * const proxy = await startStubHttpServer((req, n) => (n === 1 ? { status: 503 } : "forward"), server.url);
 */
import { createServer, type IncomingMessage } from "node:http";

export interface StubAnswer {
  status: number;
  body?: string;
  contentType?: string;
}

export interface SeenRequest {
  method: string;
  path: string;
  authorization: string | undefined;
}

export interface StubHttpServer {
  url: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

/** `handle(request, n)`: n counts requests to the same path, from 1. */
export function startStubHttpServer(
  handle: (request: SeenRequest, n: number) => StubAnswer | "forward",
  forwardTo?: string,
): Promise<StubHttpServer> {
  const seen: SeenRequest[] = [];
  const readBody = (req: IncomingMessage): Promise<Buffer> =>
    new Promise((resolve) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => resolve(Buffer.concat(chunks)));
    });
  const server = createServer(async (req, res) => {
    const request = { method: req.method ?? "GET", path: req.url ?? "/", authorization: req.headers.authorization };
    seen.push(request);
    const body = await readBody(req);
    const answer = handle(request, seen.filter((s) => s.path === request.path).length);
    if (answer === "forward" && forwardTo) {
      const forwarded = await fetch(`${forwardTo}${request.path}`, {
        method: request.method,
        headers: { "content-type": req.headers["content-type"] ?? "application/json" },
        ...(request.method === "GET" ? {} : { body }),
      });
      res.writeHead(forwarded.status, { "content-type": forwarded.headers.get("content-type") ?? "application/json" });
      res.end(Buffer.from(await forwarded.arrayBuffer()));
      return;
    }
    const canned = answer === "forward" ? { status: 502 } : answer;
    res.writeHead(canned.status, { "content-type": canned.contentType ?? "application/json" });
    res.end(canned.body ?? "");
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      resolve({
        url: `http://127.0.0.1:${port}`,
        seen,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
