/**
 * "Fine-tune on your own database" (docs/own-database.md), run as a user would, through the real `gl-rl`
 * binary, on a database that is not the demo: the library fixture (test/fixtures/library/: 4 tables, seed
 * rows, 35 question/SQL pairs) in a PGlite data directory. data augment → train sft (a few steps, the tiny
 * model, the schema-aware prompt) → train grpo (a few steps, LoRA on the SFT model) → eval --results → ask
 * --adapter. The prompts (`eval --results` lines carry them) hold the library's tables and none of the
 * demo's; `ask` links the library's tables.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runGlRl } from "../cli/runGlRl.js";
import {
  createLibraryDatabase,
  DEMO_TABLES,
  LIBRARY_QUESTIONS_PATH,
  LIBRARY_TABLES,
} from "./fixtures/library/libraryDatabase.js";

const dir = mkdtempSync(join(tmpdir(), "own-database-"));
const db = `pglite:${join(dir, "library-db")}`;
const out = (name: string): string => join(dir, name);

/** Runs a gl-rl command, failing the test with its stderr when it exits with another code. */
async function glRl(args: string[], expectCode: number | number[] = 0) {
  const run = await runGlRl(args, { timeoutMs: 120_000 });
  if (![expectCode].flat().includes(run.code))
    throw new Error(`gl-rl ${args.join(" ")} exited ${run.code}:\n${run.stderr}\n${run.stdout}`);
  return run;
}

beforeAll(async () => {
  const library = await createLibraryDatabase(join(dir, "library-db"));
  await library.close();
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("fine-tune on your own database (the library), through the gl-rl binary", () => {
  test("augment → sft → grpo → eval → ask: every prompt holds the library's tables, none of the demo's", async () => {
    // 1. More pairs: filter values swapped for other values of the same column of THIS database.
    const augmented = JSON.parse(
      (
        await glRl([
          "data",
          "augment",
          "--split",
          LIBRARY_QUESTIONS_PATH,
          "--db",
          db,
          "--copies",
          "1",
          "--out",
          out("train.jsonl"),
          "--json",
        ])
      ).stdout,
    ) as { written: number };
    expect(augmented.written).toBeGreaterThan(5);
    const swapped = readFileSync(out("train.jsonl"), "utf8");
    expect(swapped).toMatch(/'(Fantasy|Mystery|History|Poetry|Science|Porto|Lyon|Graz|Bergen|Ghent|Tampere)'/);

    // 2. SFT of a fresh tiny model on the schema-aware prompts of this database.
    writeFileSync(
      out("sft.json"),
      JSON.stringify({
        model: "tiny",
        promptStyle: "schemaAware",
        dataset: out("train.jsonl"),
        devDataset: LIBRARY_QUESTIONS_PATH,
        db,
        batchSize: 4,
        maxSteps: 3,
        evalEvery: 0,
        evalLimit: 0,
        checkpointEvery: 0,
      }),
    );
    const sft = JSON.parse(
      (await glRl(["train", "sft", "--config", out("sft.json"), "--out", out("sft"), "--threads", "1"])).stdout,
    ) as {
      output: string;
      steps: number;
    };
    expect(sft.steps).toBe(3);
    expect(existsSync(sft.output)).toBe(true);

    // 3. GRPO (LoRA on the SFT model) on this database's prompts and rewards.
    writeFileSync(
      out("grpo.json"),
      JSON.stringify({
        model: sft.output,
        database: db,
        trainSplit: LIBRARY_QUESTIONS_PATH,
        evalSplit: LIBRARY_QUESTIONS_PATH,
        promptStyle: "schemaAware",
        groupSize: 2,
        promptsPerStep: 1,
        maxCompletionTokens: 16,
        maxSteps: 2,
        evalEvery: 0,
        evalLimit: 2,
        checkpointEvery: 0,
      }),
    );
    const grpo = JSON.parse(
      (await glRl(["train", "grpo", "--config", out("grpo.json"), "--out", out("grpo"), "--threads", "1"])).stdout,
    ) as {
      steps: number;
      adapter: string;
    };
    expect(grpo.steps).toBe(2);
    expect(existsSync(grpo.adapter)).toBe(true);

    // 4. Evaluation on this database: each result line carries the prompt the model saw.
    const report = JSON.parse(
      (
        await glRl([
          "eval",
          "--model",
          sft.output,
          "--adapter",
          grpo.adapter,
          "--db",
          db,
          "--split",
          LIBRARY_QUESTIONS_PATH,
          "--prompt",
          "schemaAware",
          "--limit",
          "6",
          "--max-tokens",
          "16",
          "--threads",
          "1",
          "--results",
          out("results.jsonl"),
          "--json",
        ])
      ).stdout,
    ) as { n: number; prompt_style: string };
    expect(report).toMatchObject({ n: 6, prompt_style: "schemaAware" });
    const lines = readFileSync(out("results.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { prompt: string; question: string });
    expect(lines).toHaveLength(6);
    for (const { prompt, question } of lines) {
      expect(prompt).toContain(`Question: ${question}`);
      expect(LIBRARY_TABLES.some((t) => prompt.includes(`CREATE TABLE ${t} (`))).toBe(true);
      for (const demo of DEMO_TABLES) expect(prompt).not.toContain(demo);
    }

    // 5. Ask with the adapter: the answer links this database's tables (exit 0 answered, 1 not).
    const asked = await glRl(
      [
        "ask",
        "Which books did Ursula Vance write?",
        "--model",
        sft.output,
        "--adapter",
        grpo.adapter,
        "--db",
        db,
        "--prompt",
        "schemaAware",
        "--candidates",
        "2",
        "--json",
      ],
      [0, 1],
    );
    const answer = JSON.parse(asked.stdout) as { sql: string | null; explanation: string };
    expect(asked.code).toBe(answer.sql === null ? 1 : 0);
    const linked = (/linked tables: ([a-z_, ]+)/i.exec(answer.explanation)?.[1] ?? "").split(", ");
    expect(linked).toEqual(expect.arrayContaining(["books", "authors"])); // authors: through 'Ursula Vance'
    expect(linked.every((t) => (LIBRARY_TABLES as readonly string[]).includes(t))).toBe(true);
  }, 240_000);
});
