/** `gl-rl data augment` through the real binary (node bin/gl-rl.mjs) on the demo database. */
import { describe, expect, test } from "@jest/globals";
import { runGlRl } from "../runGlRl.js";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadDataset } from "../../data/loadDataset.js";

const glRl = (...args: string[]) => runGlRl(args, { timeoutMs: 120_000 });

describe("gl-rl data augment", () => {
  const dir = mkdtempSync(join(tmpdir(), "glrl-augment-"));

  test("writes swapped pairs of a user's split that load as a dataset; --json prints the counts", async () => {
    const split = join(dir, "mine.jsonl");
    writeFileSync(
      split,
      [
        {
          id: "a",
          question: "customers in Sweden",
          evidence: "",
          sql: "SELECT name FROM customers WHERE country = 'Sweden'",
        },
        {
          id: "b",
          question: "How many employees are on_leave?",
          evidence: "",
          sql: "SELECT COUNT(*) FROM employees WHERE status = 'on_leave'",
        },
        { id: "c", question: "how many accounts", evidence: "", sql: "SELECT COUNT(*) FROM gl_accounts" },
      ]
        .map((x) => JSON.stringify(x))
        .join("\n"),
    );
    const out = join(dir, "runs", "swapped.jsonl"); // a folder that does not exist yet
    const heldOut = join(dir, "held-out.jsonl");
    writeFileSync(
      heldOut,
      `${JSON.stringify({ id: "h", question: "How many employees are terminated?", sql: "SELECT 1" })}\n`,
    );
    const { code, stdout } = await glRl(
      "data",
      "augment",
      "--split",
      split,
      "--out",
      out,
      "--copies",
      "3",
      "--seed",
      "1",
      "--exclude",
      heldOut,
      "--json",
    );
    expect(code).toBe(0);
    const summary = JSON.parse(stdout) as Record<string, number | string>;
    expect(summary).toMatchObject({ out, generated: 6, dropped_failed: 0 });
    expect(Number(summary.written) + Number(summary.dropped_empty) + Number(summary.dropped_excluded)).toBe(6);
    const items = await loadDataset(out);
    expect(items).toHaveLength(Number(summary.written));
    for (const item of items) {
      expect(item.id).toMatch(/^[ab]\.swap\d+$/);
      const value = /'([^']*)'/.exec(item.sql)![1]!;
      expect(item.question).toContain(value);
      if (item.id.startsWith("b")) expect(value).toBe("active"); // 'terminated' is the held-out question
      if (item.id.startsWith("a")) expect(value).toMatch(/^(?!Sweden$)[A-Z][a-z]+( [A-Z][a-z]+)?$/);
    }
  }, 180_000);

  test("bad input exits 2 with a message and writes nothing", async () => {
    const out = join(dir, "never.jsonl");
    const noOut = await glRl("data", "augment");
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain("--out is required");
    const zero = await glRl("data", "augment", "--out", out, "--copies", "0");
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain("--copies must be at least 1");
    const missing = await glRl("data", "augment", "--out", out, "--split", join(dir, "absent.jsonl"));
    expect(missing.code).toBe(2);
    expect(existsSync(out)).toBe(false);
    expect(readFileSync(join(dir, "mine.jsonl"), "utf8")).toContain("Sweden");
  }, 120_000);
});
