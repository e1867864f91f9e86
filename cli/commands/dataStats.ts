/**
 * `gl-rl data stats [--dir <dir> | --file <file.jsonl>] [--json]` — counts of a question → SQL dataset
 * per split and difficulty, and the tables its gold SQL covers. Default: the demo dataset
 * (data/dataset/). `--dir` reads `<dir>/{train,dev,test,test_unseen}.jsonl` (missing ones are empty);
 * `--file` reads one JSONL file and counts items by their `split` field (else by the file's name when it
 * is a split name). Bad lines → exit 2 with their line numbers.
 *
 * With `--json`, exactly one object: `{ "train": n, "dev": n, "test": n, "test_unseen": n, "total": n,
 * "by_difficulty": { "simple": n, … }, "tables": [ … ], "templates": n, "intents": n }`.
 */
import { basename } from "node:path";
import { InputError } from "../../errors.js";
import {
  DATASET_SPLITS,
  DEMO_DATASET_DIR,
  DIFFICULTIES,
  loadDataset,
  loadDatasetSplits,
  type DatasetItem,
  type DatasetSplit,
} from "../../data/loadDataset.js";
import { parseCommandArgs } from "../parseCommandArgs.js";

export interface DatasetStats {
  train: number;
  dev: number;
  test: number;
  test_unseen: number;
  total: number;
  /** Items per difficulty over all splits ("unknown" only when some item has none). */
  by_difficulty: Record<string, number>;
  /** Tables read by the gold SQL, sorted. */
  tables: string[];
  /** Distinct `template` / `intent` values (0 when the dataset has none). */
  templates: number;
  intents: number;
}

/** Tables a SQL text reads: names after FROM / JOIN, minus its CTE names (when `tables` is absent). */
function tablesOf(item: DatasetItem): string[] {
  if (item.tables !== undefined) return item.tables;
  const ctes = new Set([...item.sql.matchAll(/(?:\bWITH|,)\s+(\w+)\s+AS\s*\(/gi)].map((m) => m[1]!.toLowerCase()));
  const names = [...item.sql.matchAll(/\b(?:FROM|JOIN)\s+([a-z_][\w.]*)/gi)].map((m) => m[1]!.toLowerCase());
  return names.filter((n) => !ctes.has(n));
}

/** Counts per split/difficulty and the tables covered. `items` carry their split. */
export function datasetStats(items: (DatasetItem & { split?: DatasetSplit })[]): DatasetStats {
  const count = (split: DatasetSplit): number => items.filter((i) => i.split === split).length;
  const byDifficulty: Record<string, number> = Object.fromEntries(DIFFICULTIES.map((d) => [d, 0]));
  for (const item of items) {
    const d = item.difficulty ?? "unknown";
    byDifficulty[d] = (byDifficulty[d] ?? 0) + 1;
  }
  const distinct = (key: "template" | "intent"): number =>
    new Set(items.map((i) => i[key]).filter((v) => v !== undefined)).size;
  return {
    train: count("train"),
    dev: count("dev"),
    test: count("test"),
    test_unseen: count("test_unseen"),
    total: items.length,
    by_difficulty: byDifficulty,
    tables: [...new Set(items.flatMap(tablesOf))].sort(),
    templates: distinct("template"),
    intents: distinct("intent"),
  };
}

function table(items: DatasetItem[], stats: DatasetStats, source: string): string {
  const difficulties = Object.keys(stats.by_difficulty);
  const header = ["split".padEnd(12), "pairs".padStart(6), ...difficulties.map((d) => d.padStart(12))].join(" ");
  const row = (name: string, rows: DatasetItem[]): string =>
    [
      name.padEnd(12),
      String(rows.length).padStart(6),
      ...difficulties.map((d) => String(rows.filter((i) => (i.difficulty ?? "unknown") === d).length).padStart(12)),
    ].join(" ");
  const lines = [
    `dataset: ${source}`,
    header,
    ...DATASET_SPLITS.map((s) =>
      row(
        s,
        items.filter((i) => i.split === s),
      ),
    ),
  ];
  const unsplit = items.filter((i) => i.split === undefined);
  if (unsplit.length > 0) lines.push(row("(no split)", unsplit));
  lines.push(row("total", items));
  if (stats.templates > 0) lines.push(`templates: ${stats.templates}, intents: ${stats.intents}`);
  lines.push(`tables covered (${stats.tables.length}): ${stats.tables.join(", ")}`);
  return lines.join("\n");
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { json: { type: "boolean" }, dir: { type: "string" }, file: { type: "string" } },
    "gl-rl data stats",
  );
  if (positionals.length > 0)
    throw new InputError(`gl-rl data stats takes no positional arguments, got '${positionals.join(" ")}'`, {
      hint: "use --dir <dir> or --file <file.jsonl>",
    });
  const dir = values.dir as string | undefined;
  const file = values.file as string | undefined;
  if (dir !== undefined && file !== undefined)
    throw new InputError("pass either --dir or --file, not both", { hint: "gl-rl data stats --dir data/dataset" });
  let items: DatasetItem[];
  let source: string;
  if (file !== undefined) {
    const fromName = basename(file).replace(/\.jsonl?$/, "") as DatasetSplit;
    const fallback = DATASET_SPLITS.includes(fromName) ? fromName : undefined;
    items = (await loadDataset(file)).map((i) => ({ ...i, split: i.split ?? fallback }));
    source = file;
  } else {
    source = dir ?? DEMO_DATASET_DIR;
    const splits = await loadDatasetSplits(source);
    items = DATASET_SPLITS.flatMap((s) => splits[s].map((i) => ({ ...i, split: s })));
  }
  const stats = datasetStats(items);
  process.stdout.write(values.json === true ? `${JSON.stringify(stats)}\n` : `${table(items, stats, source)}\n`);
  return 0;
}
