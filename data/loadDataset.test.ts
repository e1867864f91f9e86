import { describe, expect, test } from "@jest/globals";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InputError } from "../errors.js";
import { DEMO_DATASET_DIR, loadDataset, loadDatasetSplits, parseDataset } from "./loadDataset.js";

const good = (id: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ id, question: `question ${id}?`, sql: "SELECT 1", difficulty: "simple", ...extra });

function thrown(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error("expected an InputError");
}

describe("parseDataset", () => {
  test("reads valid lines, skips blank ones and fills defaults", () => {
    const items = parseDataset(
      [
        good("a"),
        "",
        good("b", { evidence: "x means y", db: "shop", tables: ["t"], split: "dev", ordered: true, mine: 3 }),
        "",
      ].join("\n"),
    );
    expect(items.map((i) => i.id)).toEqual(["a", "b"]);
    expect(items[0]).toMatchObject({ evidence: "", db: "demo", difficulty: "simple" });
    expect(items[1]).toMatchObject({
      evidence: "x means y",
      db: "shop",
      tables: ["t"],
      split: "dev",
      ordered: true,
      mine: 3,
    });
  });

  test("reports every bad line by its number in one InputError", () => {
    const text = [
      good("a"), // 1
      "{not json", // 2
      JSON.stringify({ id: "c", question: "q" }), // 3: no sql
      good("d", { difficulty: "hard" }), // 4
      "", // 5 blank
      good("a"), // 6: duplicate id
      "[1, 2]", // 7: not an object
      good("g", { tables: "projects" }), // 8
    ].join("\n");
    const error = thrown(() => parseDataset(text, "mine.jsonl"));
    expect(error.message).toMatch(/^mine\.jsonl: 6 bad lines: line 2: is not JSON/);
    expect(error.message).toContain('line 3: "sql" must be a non-empty string');
    expect(error.message).toContain('line 4: "difficulty" must be one of simple, moderate, challenging, got "hard"');
    expect(error.message).toContain('line 6: duplicate id "a" (first on line 1)');
    expect(error.message).toContain("line 7: is not a JSON object");
    expect(error.message).toContain('line 8: "tables" must be an array of strings');
    expect(error.context).toMatchObject({ file: "mine.jsonl", lines: [2, 3, 4, 6, 7, 8] });
    expect(error.hint).toContain("data/DATASET.md");
  });

  test("lists at most 10 problems and counts the rest", () => {
    const text = Array.from({ length: 14 }, () => "oops").join("\n");
    const message = thrown(() => parseDataset(text)).message;
    expect(message).toContain("14 bad lines");
    expect(message).toContain("line 10: is not JSON");
    expect(message).not.toContain("line 11:");
    expect(message).toContain("and 4 more");
  });
});

describe("loadDataset / loadDatasetSplits", () => {
  test("a missing file or directory is an InputError with a hint", async () => {
    await expect(loadDataset("/nonexistent/x.jsonl")).rejects.toThrow(
      /dataset file not found: \/nonexistent\/x\.jsonl/,
    );
    await expect(loadDatasetSplits("/nonexistent-dir")).rejects.toBeInstanceOf(InputError);
  });

  test("a user directory may hold only some splits", async () => {
    const dir = mkdtempSync(join(tmpdir(), "glrl-ds-"));
    writeFileSync(join(dir, "train.jsonl"), `${good("a")}\n${good("b")}\n`);
    const splits = await loadDatasetSplits(dir);
    expect(splits.train.map((i) => i.id)).toEqual(["a", "b"]);
    expect(splits.dev).toEqual([]);
    await expect(loadDatasetSplits(mkdtempSync(join(tmpdir(), "glrl-empty-")))).rejects.toThrow(/no split files/);
  });

  test("the demo dataset loads", async () => {
    const splits = await loadDatasetSplits(DEMO_DATASET_DIR);
    expect(splits.train.length).toBeGreaterThan(200);
    expect(splits.test.every((i) => i.db === "demo" && i.split === "test")).toBe(true);
    expect((await loadDataset("dev")).map((i) => i.id)).toEqual(splits.dev.map((i) => i.id));
  });
});
