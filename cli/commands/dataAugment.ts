/**
 * `gl-rl data augment --out <file.jsonl> [--split train|<file.jsonl>] [--db …] [--copies N] [--seed N]
 *  [--exclude <split|file.jsonl>[,…]] [--keep-empty] [--json]` — new question → SQL pairs for training on YOUR database: each pair whose
 * question repeats a literal of its SQL ('Sweden', 'PRJ-1019', 2024) gets `--copies` variants with the
 * literal swapped for another value of the same database column (trainers/databaseValues.ts); every
 * variant's gold SQL is executed sandboxed and kept only when it runs and returns rows (an empty gold
 * result would reward any other empty result) unless --keep-empty. A variant whose question or gold SQL
 * equals one of an --exclude split's is dropped (a swap can land exactly on a held-out question); when
 * --split is a demo split, the other demo splits are excluded unless --exclude says otherwise ("none").
 * Defaults: the demo dataset's train split, the demo database, 4 copies, seed 0. The output is a dataset JSONL (ids `<id>.swap<k>`) for
 * `train sft` / `train grpo` (`trainSplit`) or `eval --split`.
 *
 * Output: a summary line, or with --json ONE object `{ "out", "written", "generated", "dropped_empty",
 * "dropped_failed", "dropped_excluded" }`. Exit codes: 0 written (possibly 0 pairs); 2 unusable input (bad flags, unreadable
 * split, database that cannot be opened).
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { InputError } from "../../errors.js";
import { DATASET_SPLITS, loadDataset, type DatasetSplit } from "../../data/loadDataset.js";
import { augmentFromDatabase } from "../../data/databaseValues.js";
import { openCliDatabase } from "../openCliDatabase.js";
import { parseCommandArgs, parseIntegerFlag } from "../parseCommandArgs.js";

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      out: { type: "string" },
      split: { type: "string" },
      db: { type: "string" },
      copies: { type: "string" },
      seed: { type: "string" },
      exclude: { type: "string" },
      "keep-empty": { type: "boolean" },
      json: { type: "boolean" },
    },
    "gl-rl data augment",
  );
  if (positionals.length > 0)
    throw new InputError(`gl-rl data augment takes no positional arguments, got '${positionals.join(" ")}'`, {
      hint: "gl-rl data augment --out train-swapped.jsonl",
    });
  const out = values.out as string | undefined;
  if (!out) throw new InputError("gl-rl data augment: --out is required", { hint: "pass --out <file.jsonl>" });
  const copies = parseIntegerFlag(values.copies as string | undefined, "copies", 4);
  if (copies < 1) throw new InputError("--copies must be at least 1", { hint: "e.g. --copies 4" });
  const seed = parseIntegerFlag(values.seed as string | undefined, "seed", 0);
  const split = (values.split as string | undefined) ?? "train";
  const items = await loadDataset(split);
  const excludeFlag = values.exclude as string | undefined;
  const excludeSources =
    excludeFlag === "none"
      ? []
      : excludeFlag !== undefined
        ? excludeFlag.split(",").filter((s) => s !== "")
        : DATASET_SPLITS.includes(split as DatasetSplit)
          ? DATASET_SPLITS.filter((s) => s !== split)
          : [];
  const exclude = (await Promise.all(excludeSources.map((s) => loadDataset(s)))).flat();
  const db = await openCliDatabase(values.db as string | undefined);
  try {
    const result = await augmentFromDatabase(items, db, {
      copies,
      seed,
      exclude,
      keepEmpty: values["keep-empty"] === true,
    });
    await mkdir(dirname(resolve(out)), { recursive: true });
    const temp = `${out}.tmp-${process.pid}`;
    await writeFile(temp, result.items.map((i) => `${JSON.stringify({ ...i, split: "train" })}\n`).join(""));
    await rename(temp, out);
    const summary = {
      out,
      written: result.items.length,
      generated: result.generated,
      dropped_empty: result.droppedEmpty,
      dropped_failed: result.droppedFailed,
      dropped_excluded: result.droppedExcluded,
    };
    process.stdout.write(
      values.json === true
        ? `${JSON.stringify(summary)}\n`
        : `wrote ${summary.written} pairs to ${out} (${summary.generated} generated; dropped ${summary.dropped_empty} with an empty gold result, ${summary.dropped_failed} whose gold SQL failed, ${summary.dropped_excluded} equal to a held-out pair of ${excludeSources.join(", ") || "no split"})\n`,
    );
    return 0;
  } finally {
    await db.close();
  }
}
