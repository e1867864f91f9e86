import { describe, expect, test } from "@jest/globals";
import type { Text2SqlAgent } from "../orchestrator/text2sqlAgent.js";
import type { Text2SqlAnswer } from "../orchestrator/text2sqlState.js";
import { createText2SqlTool } from "./text2sqlTool.js";

/** An agent whose ask records its arguments and answers with a fixed result. */
function recordingAgent(answer: Partial<Text2SqlAnswer>) {
  const calls: { question: string; options: Record<string, unknown> }[] = [];
  const agent = {
    ask: async (question: string, options: Record<string, unknown> = {}) => {
      calls.push({ question, options });
      return { sql: null, rows: [], columns: [], confidence: 0, explanation: "", warnings: [], ...answer };
    },
  } as unknown as Text2SqlAgent;
  return { agent, calls };
}

describe("createText2SqlTool", () => {
  test("passes the question, evidence and the run's signal to ask; answers with the ask JSON", async () => {
    const { agent, calls } = recordingAgent({ sql: "SELECT 1", rows: [{ one: 1 }], confidence: 0.75 });
    const t = createText2SqlTool(agent, { about: "a ledger" });
    expect(t.name).toBe("query_database");
    expect(t.description).toMatch(/The database: a ledger$/);
    const controller = new AbortController();
    const out = await t.invoke({ question: "How many?", evidence: "active = 'A'" }, { signal: controller.signal });
    expect(JSON.parse(out)).toEqual({
      sql: "SELECT 1",
      rows: [{ one: 1 }],
      confidence: 0.75,
      explanation: "",
      warnings: [],
    });
    expect(calls[0]!.question).toBe("How many?");
    expect(calls[0]!.options.evidence).toBe("active = 'A'");
    expect(calls[0]!.options.signal).toBeInstanceOf(AbortSignal);
  });

  test("an unanswered ask is an answer with its error; a missing question is refused by the schema", async () => {
    const error = { stage: "generate", code: "timeout", message: "the ask ran out of time" } as const;
    const { agent, calls } = recordingAgent({ error });
    const t = createText2SqlTool(agent, { name: "ledger_sql" });
    expect(t.name).toBe("ledger_sql");
    expect(JSON.parse(await t.invoke({ question: "x" })).error).toEqual(error);
    await expect(t.invoke({ question: "" })).rejects.toThrow();
    await expect(t.invoke({} as { question: string })).rejects.toThrow();
    expect(calls).toHaveLength(1);
  });
});
