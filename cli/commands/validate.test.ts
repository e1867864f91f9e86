// Through the real binary on the demo database: the command's input contract and its verdicts
// (the validator itself is tested in sql/validateSql.test.ts).
import { describe, expect, it } from "@jest/globals";
import { runGlRl } from "../runGlRl.js";

const cli = (args: string[]) => runGlRl(args, { timeoutMs: 60_000 });

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

  it("--sql prints verdicts: valid exits 0; a misspelt column exits 1 with a did-you-mean hint; a write is refused", async () => {
    const ok = await cli(["validate", "--sql", "SELECT name FROM projects WHERE status = 'active' LIMIT 5", "--json"]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ valid: true, errors: [], warnings: [] });
    const typo = await cli(["validate", "--sql", "SELECT nme FROM projects", "--json"]);
    expect(typo.code).toBe(1);
    expect(JSON.parse(typo.stdout).errors[0]).toMatchObject({ code: "unknown_column", hint: "did you mean name?" });
    const write = await cli(["validate", "--sql", "DELETE FROM projects"]);
    expect(write.code).toBe(1);
    expect(write.stdout).toMatch(/^invalid\n {2}error unsafe_/);
  }, 90_000);
});
