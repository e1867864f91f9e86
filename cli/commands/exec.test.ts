// Through the real binary: `node bin/gl-rl.mjs exec …` on the demo database.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { runGlRl } from "../runGlRl.js";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const cli = (args: string[]) => runGlRl(args, { timeoutMs: 60_000 });

describe("gl-rl exec", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "gl-rl-exec-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("--sql --json prints rows as objects with rowCount", async () => {
    const { code, stdout } = await cli([
      "exec",
      "--sql",
      "SELECT project_code, status FROM projects WHERE project_code IN ('PRJ-1001', 'PRJ-1002') ORDER BY 1",
      "--json",
    ]);
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.rowCount).toBe(2);
    expect(out.rows.map((r: { project_code: string }) => r.project_code)).toEqual(["PRJ-1001", "PRJ-1002"]);
    expect(Object.keys(out.rows[0])).toEqual(["project_code", "status"]);
    expect(out.truncated).toBe(false);
  }, 60_000);

  it("--sql without --json prints a table; a refused write exits 1 with an error object", async () => {
    const table = await cli(["exec", "--db", "demo", "--sql", "SELECT count(*) AS n FROM employees"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^n\s*\n-+\n240\n\(1 row\)\n$/);
    const refused = await cli(["exec", "--sql", "DELETE FROM journal_lines", "--json"]);
    expect(refused.code).toBe(1);
    const error = JSON.parse(refused.stdout).error;
    expect(error.code).toMatch(/\S/);
    expect(error.message).toMatch(/\S/);
  }, 60_000);

  it("refuses DELETE FROM projects before execution with the safety policy's code and hint", async () => {
    const { code, stdout } = await cli(["exec", "--sql", "DELETE FROM projects", "--json"]);
    expect(code).toBe(1);
    const { error } = JSON.parse(stdout);
    expect(error.code).toMatch(/^unsafe_(not_read_only|forbidden_keyword)$/);
    expect(error.message).toMatch(/refused before execution: .*DELETE/);
    expect(error.hint).toMatch(/read-only|SELECT/);
    const stacked = await cli(["exec", "--sql", "SELECT 1; DROP TABLE projects", "--json"]);
    expect(stacked.code).toBe(1);
    expect(JSON.parse(stacked.stdout).error.code).toBe("unsafe_multi_statement");
  }, 60_000);

  it("--file runs a batch, one result per line with its id, and exits 0 whatever the verdicts", async () => {
    const file = join(dir, "batch.jsonl");
    const lines = [
      { id: "ok", sql: "SELECT 1 AS x" },
      { id: 2, sql: "SELECT nope FROM projects" },
      { id: "w", sql: "DROP TABLE projects" },
      { id: "after", sql: "SELECT count(*)::int AS c FROM projects" },
    ];
    await writeFile(file, `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`);
    const { code, stdout } = await cli(["exec", "--file", file]);
    expect(code).toBe(0);
    const results = stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(results.map((r) => r.id)).toEqual(["ok", 2, "w", "after"]);
    expect(results[0].rows).toEqual([{ x: 1 }]);
    expect(results[1].error.message).toMatch(/nope/);
    expect(results[2].error.code).toMatch(/^unsafe_/);
    expect(results[3].rows).toEqual([{ c: 72 }]);
  }, 60_000);

  it("exits 2 with one line on stderr for unusable input", async () => {
    const bad = join(dir, "bad.jsonl");
    await writeFile(bad, '{"id":1,"sql":"SELECT 1"}\nnot json\n');
    const cases: [string[], RegExp][] = [
      [["exec", "--file", bad], /line 2 is not JSON/],
      [["exec", "--file", join(dir, "missing.jsonl")], /cannot read/],
      [["exec"], /exactly one of --sql or --file/],
      [["exec", "--sql", "SELECT 1", "--db", "postgres://postgres:x@127.0.0.1:9/postgres"], /could not connect/],
      [["exec", "--sql", "SELECT 1", "--db", `pglite:${join(dir, "nodb")}`], /db init --db pglite:/],
      [["exec", "--sql", "SELECT 1", "--db", "mysql://x"], /unknown database/],
    ];
    for (const [args, message] of cases) {
      const { code, stdout, stderr } = await cli(args);
      expect([args.join(" "), code]).toEqual([args.join(" "), 2]);
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(stderr).toMatch(message);
      expect(stdout).toBe("");
    }
  }, 120_000);
});
