/**
 * Runs the real binary (`node bin/gl-rl.mjs …`) from the repository root and resolves with its exit code
 * and output — never rejects, so a test can assert on a failing command's code and stderr. For the CLI tests.
 *
 * @example
 * const { code, stdout } = await runGlRl(["data", "stats", "--json"]);
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

export interface GlRlRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runGlRl(args: readonly string[], options: { timeoutMs?: number } = {}): Promise<GlRlRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["bin/gl-rl.mjs", ...args],
      { cwd: ROOT, timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 2 ** 20 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr });
      },
    );
  });
}
