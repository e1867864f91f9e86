/**
 * `gl-rl mcp --http` as a child process, for the tests and benches that talk to it with the MCP SDK's client
 * (cli/commands/mcp.model.test.ts, test/servingLoad.ts).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort } from "./llamaServer.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Starts `gl-rl mcp --http <free port> …args` and resolves once it logs that it listens. */
export async function startMcpHttp(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ["bin/gl-rl.mjs", "mcp", "--http", String(port), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on("data", (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-20_000);
      const m = /listening on (\S+)/.exec(log);
      if (m) resolve(m[1]!);
    });
    child.once("exit", (code) => reject(new Error(`gl-rl mcp --http exited ${code}: ${log}`)));
  });
  return { child, url };
}

/** SIGTERM, resolved when the process has exited (at once when it already has). */
export const stopChild = (child: ChildProcess): Promise<void> =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
