import { describe, expect, it } from "@jest/globals";
import { renderPrompt } from "../models/promptTemplates.js";
import type { Completion, Prompt } from "../models/textGenerator.js";
import type { ExecutionOutcome } from "../sql/sqlExecutor.js";
import { turnPrompt } from "./correctionLoop.js";
import { runEpisodes, type EpisodeTools } from "./runEpisodes.js";

const completion = (text: string): Completion => ({
  text,
  tokens: text.split(" ").map((_, i) => i),
  logprobs: [],
  finishReason: "eos",
  timings: { promptMs: 0, generateMs: 0, tokensPerSecond: 0 },
  adapter: null,
});
const question = { question: "How many projects are there?" };
const first = turnPrompt("tiny", question, undefined, null);

/** Episode e answers `scripts[e][turn − 1]`; "bad" SQL fails validation, "boom" fails in execution. */
function tools(scripts: string[][]) {
  const calls: { prompt: string; episodes: number[]; turn: number }[] = [];
  const t: EpisodeTools = {
    async generate(prompt: Prompt, episodes, turn) {
      calls.push({ prompt: renderPrompt(prompt), episodes: [...episodes], turn });
      return episodes.map((e) => completion(scripts[e]![turn - 1]!));
    },
    extractSql: (text) => (text === "nothing" ? null : text),
    validate: async (sql) =>
      sql.includes("bad")
        ? { valid: false, errors: [{ code: "c", message: `bad query: ${sql}` }], warnings: [] }
        : { valid: true, errors: [], warnings: [] },
    execute: async (sql): Promise<ExecutionOutcome> =>
      sql.includes("boom")
        ? { ok: false, kind: "error", code: "x", error: "exploded", hint: "no booms" }
        : { ok: true, result: { columns: [], rows: [], rowCount: 0, truncated: false } as never },
    correctionPrompt: (failure) => turnPrompt("tiny", question, undefined, failure),
  };
  return { t, calls };
}

describe("runEpisodes: ask's correction loop with one candidate per episode", () => {
  it("stops an episode on an answer, on nothing to correct, or at maxTurns; corrects the others with their failure", async () => {
    const { t, calls } = tools([
      ["SELECT 1"], // answers on turn 1
      ["bad 1", "SELECT 2"], // invalid → corrected → answers
      ["nothing"], // no SQL: nothing to correct
      ["SELECT boom", "bad 2", "bad 3"], // execution error → invalid → the last allowed turn
    ]);
    const episodes = await runEpisodes(first, 4, t, 3);
    expect(episodes.map((e) => e.turns.map((turn) => turn.sql))).toEqual([
      ["SELECT 1"],
      ["bad 1", "SELECT 2"],
      [null],
      ["SELECT boom", "bad 2", "bad 3"],
    ]);
    // Turn 1: one call for the whole group; later turns: one call per episode that goes on, with its own failure.
    expect(calls.map((c) => [c.turn, c.episodes])).toEqual([
      [1, [0, 1, 2, 3]],
      [2, [1]],
      [2, [3]],
      [3, [3]],
    ]);
    expect(calls[2]!.prompt).toContain("Failed SQL:\nSELECT boom\nError: exploded\nHint: no booms");
    expect(calls[3]!.prompt).toContain("Failed SQL:\nbad 2\nError: bad query: bad 2");
    expect(episodes[3]!.turns[1]!.prompt).toEqual(
      t.correctionPrompt({ failedSql: "SELECT boom", error: "exploded", hint: "no booms" }),
    );
    // The last allowed turn is not validated (nothing reads its feedback); the others carry theirs.
    expect(episodes[3]!.turns[2]!.feedback).toBeNull();
    expect(episodes[1]!.turns[0]!.feedback?.failure?.error).toBe("bad query: bad 1");
  });

  it("maxTurns 1 is single-shot: one call, no validation or execution", async () => {
    const { t, calls } = tools([["bad 1"], ["SELECT boom"]]);
    let validated = 0;
    const counting = {
      ...t,
      validate: async (sql: string) => {
        validated += 1;
        return t.validate(sql);
      },
    };
    const episodes = await runEpisodes(first, 2, counting, 1);
    expect(episodes.map((e) => e.turns.length)).toEqual([1, 1]);
    expect(calls).toHaveLength(1);
    expect(validated).toBe(0);
  });
});
