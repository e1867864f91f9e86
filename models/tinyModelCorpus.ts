/**
 * The project's text corpus, whose tokens the tiny model's trimmed vocabulary keeps (trimVocabulary.ts):
 * BIRD Mini-Dev questions, evidence and gold SQL (data/bird-minidev/mini_dev_postgresql.json, or the
 * directory $GL_RL_BIRD_MINIDEV), data/schema.sql, every string of the demo dataset data/dataset/*.jsonl, and
 * the prompt templates' fixed text. Files that are absent are skipped (the vocabulary cache key is the
 * hash of the texts, so a different corpus gives a different, still deterministic, vocabulary).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PROMPT_FIXED_TEXTS } from "./promptTemplates.js";

function stringsOf(value: unknown, out: string[]): void {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsOf(v, out);
  else if (value && typeof value === "object") for (const v of Object.values(value)) stringsOf(v, out);
}

/**
 * The shipped data folder: beside models/ in the sources (data/) and in the package (dist/data/, where
 * scripts/buildDist.mjs copies it) — not the package root, which has no data/ when installed.
 */
const DATA_DIR = fileURLToPath(new URL("../data/", import.meta.url));

/** Corpus texts, in a fixed order. */
export function tinyModelCorpusTexts(dataDir = DATA_DIR): string[] {
  const texts: string[] = [];
  const bird = process.env.GL_RL_BIRD_MINIDEV
    ? join(process.env.GL_RL_BIRD_MINIDEV, "mini_dev_postgresql.json")
    : join(dataDir, "bird-minidev", "mini_dev_postgresql.json");
  if (bird && existsSync(bird)) {
    const rows = JSON.parse(readFileSync(bird, "utf8")) as { question?: string; evidence?: string; SQL?: string }[];
    for (const r of rows) for (const t of [r.question, r.evidence, r.SQL]) if (t) texts.push(t);
  }
  const schema = join(dataDir, "schema.sql");
  if (existsSync(schema)) texts.push(...readFileSync(schema, "utf8").split(/\n{2,}/));
  const datasetDir = join(dataDir, "dataset");
  if (existsSync(datasetDir)) {
    for (const f of readdirSync(datasetDir)
      .filter((n) => n.endsWith(".jsonl"))
      .sort()) {
      for (const line of readFileSync(join(datasetDir, f), "utf8").split("\n")) {
        if (!line.trim()) continue;
        try {
          stringsOf(JSON.parse(line), texts);
        } catch {
          /* a bad line is the dataset's problem, not the vocabulary's */
        }
      }
    }
  }
  texts.push(...PROMPT_FIXED_TEXTS);
  return texts;
}
