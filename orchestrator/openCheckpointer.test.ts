/**
 * Conversations beyond one agent: LangGraph's PostgreSQL checkpointer on an embedded PGlite directory (always)
 * and on the real server CI starts (GLRL_TEST_PG_URL). Each "process" is an agent with its own checkpointer
 * connection; the second continues the first one's thread (its follow-up is read with the first question).
 * cli/commands/ask.model.test.ts does the same with two `gl-rl ask` processes.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isInputError } from "../errors.js";
import { createScriptedTextGenerator } from "../models/scriptedTextGenerator.js";
import { openDatabase } from "../sql/openDatabase.js";
import type { SqlExecutor } from "../sql/sqlExecutor.js";
import { openCheckpointer } from "./openCheckpointer.js";
import { createText2SqlAgent } from "./text2sqlAgent.js";

const QUESTION = "Show all active projects with budget over 100000";
const model = createScriptedTextGenerator((prompt) =>
  prompt.includes("2024")
    ? "SELECT name FROM projects WHERE status = 'active' AND budget > 100000 AND start_date >= '2024-01-01'"
    : "SELECT name FROM projects WHERE status = 'active' AND budget > 100000",
);
let db: SqlExecutor;
const dir = mkdtempSync(join(tmpdir(), "glrl-checkpoints-"));

beforeAll(async () => {
  db = await openDatabase("demo");
}, 120_000);
afterAll(async () => {
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Asks the question on a thread with one agent, then the follow-up with another; returns the follow-up. */
async function continueThread(first: string, second: string, threadId: string) {
  const a = await createText2SqlAgent({ model, db, candidates: 1, promptStyle: "tiny", checkpointer: first });
  const opening = await a.ask(QUESTION, { threadId });
  await a.close();
  const b = await createText2SqlAgent({ model, db, candidates: 1, promptStyle: "tiny", checkpointer: second });
  const followUp = await b.ask("now only for 2024", { threadId });
  const state = await b.graph.getState({ configurable: { thread_id: threadId } });
  await b.close();
  return { opening, followUp, turns: (state.values as { threadTurns: { question: string }[] }).threadTurns };
}

describe("openCheckpointer", () => {
  test("pglite:<dir>: a second agent (own PGlite instance) continues the first one's thread", async () => {
    const spec = `pglite:${join(dir, "threads")}`;
    const { opening, followUp, turns } = await continueThread(spec, spec, "pglite-thread");
    expect(opening.sql).not.toContain("2024");
    expect(followUp.warnings.join(" ")).toContain(`${QUESTION} now only for 2024`);
    expect(followUp.sql).toContain("2024");
    expect(turns.map((t) => t.question)).toEqual([QUESTION, "now only for 2024"]);
  }, 120_000);

  test("memory is per agent; an unknown spec is an InputError with a hint", async () => {
    const { followUp } = await continueThread("memory", "memory", "memory-thread");
    expect(followUp.warnings.join(" ")).not.toContain("follow-up");
    const error = await openCheckpointer("redis://localhost").catch((e: unknown) => e);
    expect(isInputError(error) && error.hint).toMatch(/postgres:\/\//);
  }, 60_000);
});

const url = process.env.GLRL_TEST_PG_URL;
// Registered only with a server (no skipped tests without one).
if (url)
  describe("openCheckpointer against GLRL_TEST_PG_URL (LangGraph's PostgresSaver)", () => {
    test("two agents with their own pools continue one thread; deleteThread removes it", async () => {
      const threadId = `pg-thread-${process.pid}-${Date.now()}`;
      const { followUp, turns } = await continueThread(url, url, threadId);
      expect(followUp.warnings.join(" ")).toContain(`${QUESTION} now only for 2024`);
      expect(turns.map((t) => t.question)).toEqual([QUESTION, "now only for 2024"]);
      const { saver, close } = await openCheckpointer(url);
      try {
        expect(await saver.getTuple({ configurable: { thread_id: threadId } })).toBeDefined();
        await saver.deleteThread(threadId);
        expect(await saver.getTuple({ configurable: { thread_id: threadId } })).toBeUndefined();
      } finally {
        await close();
      }
    }, 60_000);
  });
