/** `gl-rl data stats` through the real binary (node bin/gl-rl.mjs). */
import { describe, expect, test } from "@jest/globals";
import { runGlRl } from "../runGlRl.js";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEMO_DATASET_DIR } from "../../data/loadDataset.js";

const glRl = (...args: string[]) => runGlRl(args, { timeoutMs: 60_000 });

const lineCount = (split: string): number =>
  readFileSync(join(DEMO_DATASET_DIR, `${split}.jsonl`), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "").length;

describe("gl-rl data stats", () => {
  test("--json prints one object whose counts match the demo dataset files", async () => {
    const { code, stdout } = await glRl("data", "stats", "--json");
    expect(code).toBe(0);
    expect(stdout.trim().split("\n")).toHaveLength(1);
    const stats = JSON.parse(stdout) as Record<string, unknown>;
    for (const split of ["train", "dev", "test", "test_unseen"]) expect(stats[split]).toBe(lineCount(split));
    const byDifficulty = stats.by_difficulty as Record<string, number>;
    expect(Object.keys(byDifficulty).sort()).toEqual(["challenging", "moderate", "simple"]);
    expect(byDifficulty.simple! + byDifficulty.moderate! + byDifficulty.challenging!).toBe(stats.total);
    expect(stats.tables).toEqual(expect.arrayContaining(["projects", "journal_lines", "invoices", "timesheets"]));
  }, 60_000);

  test("prints a table per split and difficulty and the tables covered", async () => {
    const { code, stdout } = await glRl("data", "stats");
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^test_unseen\\s+${lineCount("test_unseen")}\\s`, "m"));
    expect(stdout).toMatch(/^split\s+pairs\s+simple\s+moderate\s+challenging$/m);
    expect(stdout).toMatch(/tables covered \(\d+\): .*gl_accounts/);
  }, 60_000);

  test("--file counts a user's file, and bad lines exit 2 naming the line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "glrl-stats-"));
    const good = join(dir, "mine.jsonl");
    writeFileSync(
      good,
      [
        JSON.stringify({
          id: "1",
          question: "how many orders?",
          sql: "SELECT COUNT(*) FROM orders",
          split: "dev",
          difficulty: "simple",
        }),
        JSON.stringify({
          id: "2",
          question: "orders per shop",
          sql: "WITH o AS (SELECT * FROM orders) SELECT s.name, COUNT(*) FROM o JOIN shops s ON s.id = o.shop_id GROUP BY s.name",
        }),
      ].join("\n"),
    );
    const ok = await glRl("data", "stats", "--file", good, "--json");
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      dev: 1,
      train: 0,
      total: 2,
      by_difficulty: { simple: 1, unknown: 1 },
      tables: ["orders", "shops"],
    });

    const bad = join(dir, "bad.jsonl");
    writeFileSync(
      bad,
      `${JSON.stringify({ id: "1", question: "q", sql: "SELECT 1" })}\n{"id": "2", "question": "q"}\n`,
    );
    const failed = await glRl("data", "stats", "--file", bad);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toContain('line 2: "sql" must be a non-empty string');
  }, 60_000);
});
