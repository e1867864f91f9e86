// Through the real binary. The verdicts themselves are sql-core's (sql/validateSql.ts); here: the
// command's input contract, which holds whether or not the validator is built yet.
import { describe, expect, it } from "@jest/globals";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("node", ["bin/gl-rl.mjs", ...args], { cwd: ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

describe("gl-rl validate", () => {
  it("exits 2 with one line for missing flags, a missing file and an unknown flag", async () => {
    const cases: [string[], RegExp][] = [
      [["validate"], /exactly one of --sql or --file/],
      [["validate", "--sql", "SELECT 1", "--file", "x.jsonl"], /exactly one of --sql or --file/],
      [["validate", "--file", "/nonexistent/in.jsonl"], /cannot read/],
      [["validate", "--sql", "SELECT 1", "--bogus"], /bogus/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await cli(args);
      expect([args.join(" "), code]).toEqual([args.join(" "), 2]);
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(stderr).toMatch(message);
    }
  }, 60_000);
});
