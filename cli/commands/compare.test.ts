// The command through the real binary (hasOuterOrderBy is tested in sql/executionMatch.test.ts).
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { runGlRl } from "../runGlRl.js";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const cli = (args: string[]) => runGlRl(args, { timeoutMs: 60_000 });

describe("gl-rl compare", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "gl-rl-compare-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("--gold/--candidate --json: permuted columns match; a different order under ORDER BY does not (exit 1)", async () => {
    const same = await cli([
      "compare",
      "--json",
      "--gold",
      "SELECT name, currency FROM companies",
      "--candidate",
      "SELECT currency, name FROM companies ORDER BY name DESC",
    ]);
    expect(same.code).toBe(0);
    expect(JSON.parse(same.stdout)).toMatchObject({ match: true, ordered: false });
    const order = await cli([
      "compare",
      "--json",
      "--gold",
      "SELECT name FROM companies ORDER BY name",
      "--candidate",
      "SELECT name FROM companies ORDER BY name DESC",
    ]);
    expect(order.code).toBe(1);
    const verdict = JSON.parse(order.stdout);
    expect(verdict.match).toBe(false);
    expect(verdict.reason).toMatch(/order/);
  }, 60_000);

  it("--suite 3: a constant that equals the gold on the database fails on a variant (exit 1); the gold's rewrite matches", async () => {
    const gold = "SELECT count(*) FROM projects WHERE status = 'active'";
    const constant = await cli([
      "compare",
      "--json",
      "--suite",
      "3",
      "--gold",
      gold,
      "--candidate",
      "SELECT 24 FROM projects LIMIT 1",
    ]);
    expect(constant.code).toBe(1);
    expect(JSON.parse(constant.stdout)).toMatchObject({ match: false, database_match: true, variants_compared: 3 });
    expect(JSON.parse(constant.stdout).reason).toMatch(/^on variant \d/);
    const rewrite = await cli([
      "compare",
      "--json",
      "--suite",
      "3",
      "--gold",
      gold,
      "--candidate",
      "SELECT count(project_id) FROM projects p WHERE p.status IN ('active')",
    ]);
    expect(rewrite.code).toBe(0);
    expect(JSON.parse(rewrite.stdout)).toMatchObject({ match: true, database_match: true, variants_compared: 3 });
    const bad = await cli(["compare", "--suite", "two", "--gold", gold, "--candidate", gold]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--suite must be a non-negative integer/);
  }, 120_000);

  it("--file writes one verdict per line with its id and exits 0", async () => {
    const file = join(dir, "pairs.jsonl");
    await writeFile(
      file,
      [
        { id: "num", gold: "SELECT count(*) FROM projects", candidate: "SELECT 72.0" },
        { id: "err", gold: "SELECT 1", candidate: "SELECT nope" },
        { id: "write", gold: "SELECT 1", candidate: "DELETE FROM projects" },
        { id: "after", gold: "SELECT count(*) FROM projects", candidate: "SELECT 72" },
      ]
        .map((l) => JSON.stringify(l))
        .join("\n"),
    );
    const { code, stdout } = await cli(["compare", "--file", file]);
    expect(code).toBe(0);
    const results = stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(results.map((r) => [r.id, r.match])).toEqual([
      ["num", true],
      ["err", false],
      ["write", false],
      ["after", true],
    ]);
    expect(results[1].reason).toMatch(/candidate failed/);
  }, 60_000);

  it("exits 2 for missing flags and a bad line", async () => {
    const bad = join(dir, "bad.jsonl");
    await writeFile(bad, '{"id":1,"gold":"SELECT 1"}\n');
    const missing = await cli(["compare", "--gold", "SELECT 1"]);
    expect(missing.code).toBe(2);
    const line = await cli(["compare", "--file", bad]);
    expect(line.code).toBe(2);
    expect(line.stderr).toMatch(/line 1 has no string field "candidate"/);
  }, 60_000);
});
