/**
 * The task's prompt on a database that is not the demo (the library fixture): what each style holds, and the
 * one-builder guarantee — for the same question and database, the prompt GRPO trains on, the prompt
 * evaluation uses and the prompt `ask` sends are the same text (schema-aware style and tiny).
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { loadDataset, type DatasetItem } from "../data/loadDataset.js";
import { renderPrompt } from "../models/promptTemplates.js";
import { createScriptedTextGenerator } from "../models/scriptedTextGenerator.js";
import { createText2SqlAgent } from "../orchestrator/text2sqlAgent.js";
import type { PgliteExecutor } from "../sql/pgliteExecutor.js";
import {
  createLibraryDatabase,
  DEMO_TABLES,
  LIBRARY_QUESTIONS_PATH,
} from "../test/fixtures/library/libraryDatabase.js";
import { buildGrpoPrompts } from "../trainers/grpo/grpoRun.js";
import { evaluateModel } from "../trainers/eval/evaluateModel.js";
import { taskDatabase, type TaskDatabase } from "./taskDatabase.js";
import { buildTaskPrompt, buildTaskPrompts, linkQuestion, promptStyleForModel, taskPrompt } from "./text2sqlPrompt.js";

let db: PgliteExecutor;
let task: TaskDatabase;
let items: DatasetItem[];
const tokenizer = { tokenize: (text: string) => [...text].map((c) => c.charCodeAt(0)), eosToken: 0 };

beforeAll(async () => {
  db = await createLibraryDatabase();
  task = taskDatabase(db);
  items = await loadDataset(LIBRARY_QUESTIONS_PATH);
}, 60_000);
afterAll(async () => {
  await db?.close();
});

const userTurn = (prompt: ReturnType<typeof taskPrompt>): string =>
  "messages" in prompt ? prompt.messages[1]!.content : prompt.text;

describe("the task's prompt", () => {
  test("tiny: the question and evidence alone, exactly as the demo model was trained (no database needed)", async () => {
    expect(taskPrompt("tiny", { question: "How many books?" })).toEqual({ text: "How many books?\nSQL:\n" });
    expect(
      await buildTaskPrompt(null, "tiny", { question: "How many books?", evidence: "books = rows of books" }),
    ).toEqual({
      text: "How many books?\nEvidence: books = rows of books\nSQL:\n",
    });
    expect(() => taskPrompt("schemaAware", { question: "q" })).toThrow(/needs the database/);
  });

  test("schemaAware: the linked tables' DDL introspected from this database, the values the question names", async () => {
    const prompt = await buildTaskPrompt(task, "schemaAware", { question: "Which books did Ursula Vance write?" });
    const user = userTurn(prompt);
    expect(user).toContain("Relevant tables:\nCREATE TABLE books (");
    expect(user).toContain("FOREIGN KEY (author_id) REFERENCES authors (author_id)");
    expect(user).toContain("'Ursula Vance' is stored as 'Ursula Vance' in authors.full_name");
    expect(user).not.toContain("CREATE TABLE members");
    for (const demo of DEMO_TABLES) expect(user).not.toContain(demo);
    // A question that links no table shows them all; comments come along.
    const all = userTurn(await buildTaskPrompt(task, "schemaAware", { question: "zzz qqq" }));
    for (const t of ["authors", "books", "members", "loans"]) expect(all).toContain(`CREATE TABLE ${t} (`);
    expect(all).toContain("COMMENT ON COLUMN loans.returned IS 'NULL while the book is still out';");
  });

  test("zeroShot holds every table; a follow-up's previous SQL and examples are part of the context", async () => {
    const zero = userTurn(await buildTaskPrompt(task, "zeroShot", { question: "How many loans?" }));
    expect(zero).toContain("Database schema:\nCREATE TABLE authors (");
    expect(zero).toContain("CREATE TABLE loans (");
    const { schema, linked } = await linkQuestion(task, "now only for Porto");
    const followUp = userTurn(
      taskPrompt(
        "schemaAware",
        { question: "How many members? now only for Porto", evidence: "count members" },
        {
          schema,
          linked,
          previousSql: "SELECT COUNT(*) FROM members",
          examples: [{ question: "members", sql: "SELECT 1" }],
        },
      ),
    );
    expect(followUp).toContain(
      "Evidence: count members; 'Porto' is stored as 'Porto' in members.city; The previous query was: SELECT COUNT(*) FROM members",
    );
    expect(followUp.indexOf("Examples:")).toBeLessThan(followUp.lastIndexOf("Question: How many members?"));
  });

  test("style by model: tiny vocabularies get the tiny style, real Qwen models the schema-aware one", () => {
    expect(promptStyleForModel({ vocabularySize: 5268 })).toBe("tiny");
    expect(promptStyleForModel({ vocabularySize: 151_936 })).toBe("schemaAware");
    expect(promptStyleForModel({})).toBe("schemaAware");
  });
});

describe("one prompt builder: GRPO trains on what ask sends", () => {
  test.each(["schemaAware", "tiny"] as const)(
    "%s, on the library database: GRPO prompt = eval prompt = ask prompt",
    async (style) => {
      const sample = [items[16]!, items[25]!, items[1]!]; // a named author, a city, a quoted genre
      const grpo = buildGrpoPrompts(tokenizer, sample, style, await buildTaskPrompts(task, style, sample));
      const model = createScriptedTextGenerator(() => "SELECT 1");
      const agent = await createText2SqlAgent({ model, db, candidates: 1, promptStyle: style, maxCorrections: 0 });
      for (const item of sample) await agent.ask(item.question, item.evidence ? { evidence: item.evidence } : {});
      await agent.close();
      const report = await evaluateModel({ generator: model, items: sample, executor: db, promptStyle: style, task });
      const asked = model.calls.slice(0, sample.length).map((c) => c.prompt);
      expect(grpo.map((p) => renderPrompt(p.prompt))).toEqual(asked);
      expect(report.results.map((r) => r.prompt)).toEqual(asked);
      expect(grpo[0]!.promptTokens).toEqual(tokenizer.tokenize(asked[0]!));
      if (style === "schemaAware") {
        expect(asked[0]).toContain("CREATE TABLE authors (");
        expect(asked[1]).toContain("'Graz' is stored as 'Graz' in members.city");
        for (const prompt of asked) for (const demo of DEMO_TABLES) expect(prompt).not.toContain(demo);
      } else expect(asked[0]).toBe(`${sample[0]!.question}\nSQL:\n`);
    },
    60_000,
  );
});
