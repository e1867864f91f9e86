/**
 * The demo dataset's splits (data/DATASET.md "The demo dataset"): sizes, difficulty mix, intents and
 * unseen templates kept apart, no duplicate questions or ids, and the committed files equal to what
 * data/buildDataset.ts generates (deterministic).
 */
import { beforeAll, describe, expect, test } from "@jest/globals";
import { buildDataset } from "./buildDataset.js";
import { DATASET_SPLITS, DIFFICULTIES, loadDatasetSplits, type DatasetItem, type DatasetSplit } from "./loadDataset.js";
import { questionTemplates } from "./questionTemplates.js";

let splits: Record<DatasetSplit, DatasetItem[]>;
let all: DatasetItem[];

beforeAll(async () => {
  splits = await loadDatasetSplits();
  all = DATASET_SPLITS.flatMap((s) => splits[s]);
});

const share = (items: DatasetItem[], difficulty: string): number =>
  items.filter((i) => i.difficulty === difficulty).length / items.length;
const TARGET: Record<string, number> = { simple: 0.3, moderate: 0.5, challenging: 0.2 };

describe("demo dataset splits", () => {
  test("sizes: ≥ 400 pairs, test ≥ 80, dev ≥ 60, test_unseen ≥ 30, the rest train", () => {
    expect(all.length).toBeGreaterThanOrEqual(400);
    expect(splits.test.length).toBeGreaterThanOrEqual(80);
    expect(splits.dev.length).toBeGreaterThanOrEqual(60);
    expect(splits.test_unseen.length).toBeGreaterThanOrEqual(30);
    expect(splits.train.length).toBeGreaterThan(splits.dev.length + splits.test.length);
  });

  test("each file holds only its split", () => {
    for (const split of DATASET_SPLITS) expect(new Set(splits[split].map((i) => i.split))).toEqual(new Set([split]));
  });

  test("difficulty mix ≈ 30/50/20 overall (±5 points) and within each split (±8 points)", () => {
    for (const d of DIFFICULTIES) {
      expect(Math.abs(share(all, d) - TARGET[d]!)).toBeLessThanOrEqual(0.05);
      for (const split of ["train", "dev", "test"] as const)
        expect(Math.abs(share(splits[split], d) - TARGET[d]!)).toBeLessThanOrEqual(0.08);
    }
  });

  test("no intent appears in two splits", () => {
    const splitOf = new Map<string, DatasetSplit>();
    const straddling: string[] = [];
    for (const item of all) {
      const seen = splitOf.get(item.intent!);
      if (seen !== undefined && seen !== item.split) straddling.push(`${item.intent} in ${seen} and ${item.split}`);
      splitOf.set(item.intent!, item.split!);
    }
    expect(straddling).toEqual([]);
    expect(splitOf.size).toBeGreaterThan(150);
  });

  test("test_unseen templates occur in no other split; every other template is in train", () => {
    const unseen = new Set(splits.test_unseen.map((i) => i.template));
    const elsewhere = [...splits.train, ...splits.dev, ...splits.test].filter((i) => unseen.has(i.template));
    expect(elsewhere.map((i) => i.id)).toEqual([]);
    const trained = new Set(splits.train.map((i) => i.template));
    const seenTemplates = new Set([...splits.dev, ...splits.test].map((i) => i.template));
    expect([...seenTemplates].filter((t) => !trained.has(t))).toEqual([]);
    expect(unseen.size).toBeGreaterThanOrEqual(5);
    expect(trained.size).toBeGreaterThanOrEqual(45);
  });

  test("ids are unique and no question is asked twice", () => {
    expect(new Set(all.map((i) => i.id)).size).toBe(all.length);
    const normalised = all.map((i) => i.question.trim().toLowerCase());
    const dupes = normalised.filter((q, k) => normalised.indexOf(q) !== k);
    expect(dupes).toEqual([]);
  });

  test("paraphrases of an intent share SQL and evidence; the README question is there", () => {
    const byIntent = new Map<string, DatasetItem[]>();
    for (const item of all) byIntent.set(item.intent!, [...(byIntent.get(item.intent!) ?? []), item]);
    for (const group of byIntent.values()) {
      expect(new Set(group.map((i) => i.sql)).size).toBe(1);
      expect(new Set(group.map((i) => i.evidence)).size).toBe(1);
    }
    const example = all.find((i) => i.question === "Show all active projects with budget over 100000");
    expect(example?.sql).toBe(
      "SELECT project_code, name, budget FROM projects WHERE status = 'active' AND budget > 100000",
    );
  });

  test("financial totals over journal_lines keep posted entries only", () => {
    const ledger = all.filter((i) => /\bjournal_lines\b/.test(i.sql));
    expect(ledger.length).toBeGreaterThan(20);
    expect(ledger.filter((i) => !i.sql.includes("je.posted = true")).map((i) => i.id)).toEqual([]);
  });

  test("the committed files are exactly what buildDataset generates", async () => {
    const built = await buildDataset();
    const key = (i: DatasetItem): string => JSON.stringify(i, Object.keys(i).sort());
    expect(built.map(key).sort()).toEqual(all.map(key).sort());
    expect(new Set(built.map((i) => i.template)).size).toBe(questionTemplates.length);
  }, 60_000);
});
