/**
 * `ask` and multi-turn training run one correction loop (task/correctionLoop.ts): for the same model answers, the
 * correction prompt the orchestrator sends equals the one task/runEpisodes.ts (GRPO's episodes) builds — with the
 * real validator, the sandboxed executor and the demo database, in the tiny and the schema-aware style.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { renderPrompt, type PromptStyle } from "../models/promptTemplates.js";
import { createScriptedTextGenerator } from "../models/scriptedTextGenerator.js";
import { openDatabase } from "../sql/openDatabase.js";
import { executeOutcome, type SqlExecutor } from "../sql/sqlExecutor.js";
import { validateSql } from "../sql/validateSql.js";
import { turnPrompt } from "../task/correctionLoop.js";
import { runEpisodes } from "../task/runEpisodes.js";
import { taskDatabase } from "../task/taskDatabase.js";
import { linkQuestion } from "../task/text2sqlPrompt.js";
import { createText2SqlAgent } from "./text2sqlAgent.js";

const QUESTION = "Show all active projects with budget over 100000";
const GOOD = "SELECT name, budget FROM projects WHERE status = 'active' AND budget > 100000";
let db: SqlExecutor;
beforeAll(async () => {
  db = await openDatabase("demo");
}, 120_000);
afterAll(async () => {
  await db?.close();
});

describe("ask and GRPO's episodes share the correction loop", () => {
  test.each([
    ["tiny", "SELECT name FROM projects WHERE budgt > 100000"], // the validator's error
    ["schemaAware", "SELECT name FROM projects WHERE budget / 0 > 1"], // the execution's error
  ] as [PromptStyle, string][])(
    "%s: the same correction prompt after %s",
    async (style, wrong) => {
      const answer = (prompt: string) => (prompt.includes("The previous query failed.") ? GOOD : wrong);
      const asked = createScriptedTextGenerator(answer);
      const agent = await createText2SqlAgent({ model: asked, db, candidates: 1, promptStyle: style });
      const result = await agent.ask(QUESTION);
      await agent.close();
      expect(result.corrections).toBe(1);

      const task = taskDatabase(db);
      const context = style === "tiny" ? undefined : await linkQuestion(task, QUESTION);
      const q = { question: QUESTION, evidence: null };
      const trained = createScriptedTextGenerator(answer);
      const episodes = await runEpisodes(
        turnPrompt(style, q, context, null),
        1,
        {
          generate: (prompt, episodes) => trained.generateCandidates(prompt, episodes.length),
          extractSql: (text) => text,
          validate: async (sql) => validateSql(sql, { schema: await task.schema(), executor: db }),
          execute: (sql) => executeOutcome(db, sql, { timeoutMs: 5000, maxRows: 1000 }),
          correctionPrompt: (failure) => turnPrompt(style, q, context, failure),
        },
        2,
      );
      expect(episodes[0]!.turns.map((t) => t.sql)).toEqual([wrong, GOOD]);
      expect(trained.calls.map((c) => c.prompt)).toEqual(asked.calls.map((c) => c.prompt));
      expect(renderPrompt(episodes[0]!.turns[1]!.prompt)).toContain(`Failed SQL:\n${wrong}`);
    },
    120_000,
  );
});
