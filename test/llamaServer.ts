/**
 * A real llama.cpp `llama-server` for the tests: built once from node-llama-cpp's bundled source
 * (scripts/buildLlamaServer.mjs, cached under GL_RL_CACHE_DIR by commit; the first caller builds, the others
 * wait on its lock), started on a free loopback port with a GGUF (default the demo model), ready when
 * `GET /health` answers 200. docs/remote-models.md, "llama-server from node-llama-cpp's source".
 *
 * Server flags chosen to decode as the in-process model does (models/loadModel.ts): one thread for the tiny
 * model (decodeThreads), no flash attention (node-llama-cpp's default), f16 KV cache.
 *
 * @example
 * const server = await startLlamaServer();
 * const model = await createOpenAiTextGenerator(`openai:${server.url}`);
 * await server.stop();
 */
import { execFile, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
export const DEMO_MODEL = fileURLToPath(new URL("../data/demo-model.gguf", import.meta.url));

/** The llama-server binary, built on first use (minutes, once per llama.cpp commit). */
export function ensureLlamaServer(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["scripts/buildLlamaServer.mjs"],
      { cwd: ROOT, maxBuffer: 64 << 20, timeout: 40 * 60_000 },
      (error, stdout, stderr) => {
        if (error)
          reject(new Error(`building llama-server failed: ${stderr.trim().split("\n").slice(-5).join(" | ")}`));
        else resolve(stdout.trim().split("\n").at(-1)!);
      },
    );
  });
}

/** A free TCP port on 127.0.0.1 (closed again: the caller binds it next). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export interface RunningLlamaServer {
  port: number;
  /** `http://127.0.0.1:<port>` (the OpenAI API root is `<url>/v1`). */
  url: string;
  /** stderr so far (llama-server logs there). */
  log(): string;
  /** The server's process id (its memory: /proc/<pid>/status). */
  pid: number | undefined;
  stop(): Promise<void>;
  /** SIGKILL, as a crash: no shutdown of its own. */
  kill(): Promise<void>;
}

/**
 * Starts llama-server with `model` and waits until `/health` says ready (≤ readyMs). `preset`: router mode
 * instead (no model; `--models-preset <file>`, every child inheriting the flags below).
 */
export async function startLlamaServer(
  options: { model?: string; preset?: string; args?: string[]; readyMs?: number; port?: number } = {},
): Promise<RunningLlamaServer> {
  const binary = await ensureLlamaServer();
  for (let attempt = 0; ; attempt += 1) {
    const port = options.port ?? (await freePort());
    const child = spawn(
      binary,
      [
        ...(options.preset === undefined ? ["-m", options.model ?? DEMO_MODEL] : ["--models-preset", options.preset]),
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
        "--threads",
        "1",
        "--parallel",
        "4",
        "--ctx-size",
        "8192",
        "--flash-attn",
        "off",
        "--no-webui",
        // No weight repacking: on CPUs with AMX (this machine kind), llama.cpp at this commit repacks q8_0 weights
        // for its AMX kernels and segfaults in ggml_backend_amx_mul_mat on the demo model's 128-wide matrices
        // (docs/remote-models.md, "llama-server from node-llama-cpp's source").
        "--no-repack",
        ...(options.args ?? []),
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let log = "";
    child.stderr.on("data", (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-100_000);
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    let dead = false;
    void exited.then(() => {
      dead = true;
    });
    const stop = async (): Promise<void> => {
      if (!dead) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
    };
    const deadline = Date.now() + (options.readyMs ?? 120_000);
    while (!dead && Date.now() < deadline) {
      const ok = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(5000) })
        .then((r) => r.status === 200)
        .catch(() => false);
      const kill = async (): Promise<void> => {
        if (!dead) {
          child.kill("SIGKILL");
          await exited;
        }
      };
      if (ok) return { port, url: `http://127.0.0.1:${port}`, log: () => log, pid: child.pid, stop, kill };
      await new Promise((r) => setTimeout(r, 200));
    }
    await stop();
    // Another process took the port between freePort and the bind: try another.
    if (attempt < 3 && options.port === undefined && /bind|address already in use/i.test(log)) continue;
    throw new Error(
      `llama-server did not become ready on port ${port}: ${log.trim().split("\n").slice(-8).join(" | ")}`,
    );
  }
}
