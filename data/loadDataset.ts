/**
 * loadDataset — read a question → SQL dataset in gl-rl's JSONL format (documented in data/DATASET.md).
 *
 * Algorithm:
 * 1. Split the text on "\n"; line numbers are 1-based; blank lines are skipped.
 * 2. Each line must be one JSON object. Required: `id`, `question`, `sql` (non-empty strings).
 *    Optional, validated when present: `evidence` (string, default ""), `difficulty`
 *    (simple | moderate | challenging), `db` (string, default "demo"), `tables` (string[]), `intent`,
 *    `template` (strings), `split` (train | dev | test | test_unseen), `ordered`, `expect_empty`
 *    (booleans). Unknown fields are kept as they are (users may carry their own).
 * 3. Ids must be unique within one file.
 * 4. Every problem is collected; when any exists one InputError lists them by line number (the first
 *    10, then a count), with the file in its context, so a user fixes the whole file in one go.
 *
 * @example
 * const items = await loadDataset("data/dataset/train.jsonl"); // or loadDataset("train")
 * const { train, dev, test, test_unseen } = await loadDatasetSplits(DEMO_DATASET_DIR);
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { InputError } from "../errors.js";
import { parseJsonlLines } from "./jsonlLines.js";

export type Difficulty = "simple" | "moderate" | "challenging";
export const DIFFICULTIES: readonly Difficulty[] = ["simple", "moderate", "challenging"];

export type DatasetSplit = "train" | "dev" | "test" | "test_unseen";
export const DATASET_SPLITS: readonly DatasetSplit[] = ["train", "dev", "test", "test_unseen"];

/** One question with its gold SQL (one JSONL line). */
export interface DatasetItem {
  /** Stable unique id, e.g. "projects_status_budget_over.0.1". */
  id: string;
  /** The natural-language question. */
  question: string;
  /** Business definitions the question relies on; "" when none. */
  evidence: string;
  /** The gold SQL (PostgreSQL). */
  sql: string;
  /** BIRD-style difficulty, when known. */
  difficulty?: Difficulty;
  /** The database the question is about ("demo" for the demo ledger). */
  db: string;
  /** Tables the gold SQL reads. */
  tables?: string[];
  /** Intent id (template + slot values); paraphrases share it. */
  intent?: string;
  /** Template id. */
  template?: string;
  /** The split the item belongs to. */
  split?: DatasetSplit;
  /** True when row order matters for the answer (the gold SQL ends with ORDER BY). */
  ordered?: boolean;
  /** True when the correct answer is an empty result. */
  expect_empty?: boolean;
  [extra: string]: unknown;
}

/** A question/SQL pair with optional evidence: what prompts, augmentation and training read of a dataset item. */
export type QuestionSqlPair = Pick<DatasetItem, "question" | "sql"> & { evidence?: string };

/** The demo dataset's directory (data/dataset/). */
export const DEMO_DATASET_DIR = fileURLToPath(new URL("./dataset/", import.meta.url));

const MAX_LISTED = 10;
const FORMAT_HINT =
  'each line must be one JSON object like {"id": "q1", "question": "…", "evidence": "", "sql": "SELECT …", "difficulty": "simple", "db": "demo"} (see data/DATASET.md)';

/** Validates one parsed line; returns the item or the problems found. */
function checkItem(value: unknown): { item?: DatasetItem; problems: string[] } {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return { problems: ["is not a JSON object"] };
  const o = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of ["id", "question", "sql"]) {
    if (typeof o[key] !== "string" || (o[key] as string).trim() === "")
      problems.push(`"${key}" must be a non-empty string`);
  }
  for (const key of ["evidence", "db", "intent", "template"]) {
    if (o[key] !== undefined && typeof o[key] !== "string") problems.push(`"${key}" must be a string`);
  }
  if (o.difficulty !== undefined && !DIFFICULTIES.includes(o.difficulty as Difficulty)) {
    problems.push(`"difficulty" must be one of ${DIFFICULTIES.join(", ")}, got ${JSON.stringify(o.difficulty)}`);
  }
  if (o.split !== undefined && !DATASET_SPLITS.includes(o.split as DatasetSplit)) {
    problems.push(`"split" must be one of ${DATASET_SPLITS.join(", ")}, got ${JSON.stringify(o.split)}`);
  }
  if (o.tables !== undefined && !(Array.isArray(o.tables) && o.tables.every((t) => typeof t === "string"))) {
    problems.push(`"tables" must be an array of strings`);
  }
  for (const key of ["ordered", "expect_empty"]) {
    if (o[key] !== undefined && typeof o[key] !== "boolean") problems.push(`"${key}" must be true or false`);
  }
  if (problems.length > 0) return { problems };
  return {
    item: {
      ...o,
      evidence: (o.evidence as string | undefined) ?? "",
      db: (o.db as string | undefined) ?? "demo",
    } as DatasetItem,
    problems,
  };
}

/**
 * Parses JSONL text into items. `source` names the file in messages.
 * Throws one InputError listing every bad line by number.
 */
export function parseDataset(text: string, source = "<dataset>"): DatasetItem[] {
  const items: DatasetItem[] = [];
  const errors: string[] = [];
  const seen = new Map<string, number>();
  for (const parsed of parseJsonlLines(text)) {
    const n = parsed.line;
    if (parsed.error !== undefined) {
      errors.push(`line ${n}: ${parsed.error}`);
      continue;
    }
    const { item, problems } = checkItem(parsed.value);
    if (item === undefined) {
      errors.push(`line ${n}: ${problems.join("; ")}`);
      continue;
    }
    const first = seen.get(item.id);
    if (first !== undefined) {
      errors.push(`line ${n}: duplicate id "${item.id}" (first on line ${first})`);
      continue;
    }
    seen.set(item.id, n);
    items.push(item);
  }
  if (errors.length > 0) {
    const listed = errors.slice(0, MAX_LISTED).join("; ");
    const more = errors.length > MAX_LISTED ? `; and ${errors.length - MAX_LISTED} more` : "";
    throw new InputError(`${source}: ${errors.length} bad line${errors.length === 1 ? "" : "s"}: ${listed}${more}`, {
      hint: FORMAT_HINT,
      context: { file: source, lines: errors.map((e) => Number(/^line (\d+)/.exec(e)?.[1])) },
    });
  }
  return items;
}

/**
 * Reads and parses one JSONL dataset (see parseDataset): a file path, or a split name
 * (train | dev | test | test_unseen) meaning that split of the demo dataset.
 */
export async function loadDataset(pathOrSplit: string): Promise<DatasetItem[]> {
  const path = DATASET_SPLITS.includes(pathOrSplit as DatasetSplit)
    ? join(DEMO_DATASET_DIR, `${pathOrSplit}.jsonl`)
    : pathOrSplit;
  if (!existsSync(path)) {
    throw new InputError(`dataset file not found: ${path}`, {
      hint: `pass a .jsonl file or a demo split name (${DATASET_SPLITS.join(", ")})`,
    });
  }
  return parseDataset(await readFile(path, "utf8"), path);
}

/** The four splits of a dataset directory (`<dir>/<split>.jsonl`); a missing split file is empty. */
export async function loadDatasetSplits(dir: string = DEMO_DATASET_DIR): Promise<Record<DatasetSplit, DatasetItem[]>> {
  if (!existsSync(dir))
    throw new InputError(`dataset directory not found: ${dir}`, {
      hint: "pass a directory holding train.jsonl, dev.jsonl, test.jsonl (and test_unseen.jsonl)",
    });
  const out = {} as Record<DatasetSplit, DatasetItem[]>;
  let found = 0;
  for (const split of DATASET_SPLITS) {
    const path = join(dir, `${split}.jsonl`);
    if (existsSync(path)) found++;
    out[split] = existsSync(path) ? await loadDataset(path) : [];
  }
  if (found === 0)
    throw new InputError(`no split files in ${dir}`, {
      hint: "expected train.jsonl, dev.jsonl, test.jsonl or test_unseen.jsonl there",
    });
  return out;
}
