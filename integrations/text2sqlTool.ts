/**
 * gl-rl's agent as a LangChain tool, for LangChain.js / LangGraph.js agents (`createReactAgent`, `createAgent`):
 * `tool()` from `@langchain/core/tools` with a zod schema `{ question, evidence? }`, answering with the one
 * answer JSON (integrations/answerJson.ts: `{ sql, rows, confidence, explanation, warnings, error? }`) — the same
 * form as `gl-rl ask --json` and the MCP `ask` tool. An ask that could not answer is still an answer (sql null,
 * `error` says why): the calling model reads it and can rephrase. The run's abort signal reaches the ask.
 *
 * @example
 * const agent = await createText2SqlAgent({ model, db: "postgres://readonly@localhost/mydb" });
 * const app = createReactAgent({ llm, tools: [createText2SqlTool(agent)] });
 * await app.invoke({ messages: [{ role: "user", content: "How many active projects are there?" }] });
 */
import { tool } from "@langchain/core/tools";
import { z } from "zod";
import type { Text2SqlAgent } from "../orchestrator/text2sqlAgent.js";
import { answerJson } from "./answerJson.js";

export interface Text2SqlToolOptions {
  /** The tool's name, as the calling model sees it. Default `query_database`. */
  name?: string;
  /** What the database holds, for the calling model's choice of tool (appended to the description). */
  about?: string;
}

export function createText2SqlTool(agent: Text2SqlAgent, options: Text2SqlToolOptions = {}) {
  return tool(
    async ({ question, evidence }, config) =>
      JSON.stringify(
        answerJson(await agent.ask(question, { ...(evidence ? { evidence } : {}), signal: config?.signal })),
      ),
    {
      name: options.name ?? "query_database",
      description:
        "Answers a question about the database: writes SQL, validates it and runs it read-only. Returns JSON " +
        "{ sql, rows, confidence, explanation, warnings, error? }; sql is null when it could not answer." +
        (options.about ? ` The database: ${options.about}` : ""),
      schema: z.object({
        question: z.string().min(1).describe("the question in plain language"),
        evidence: z.string().optional().describe("business definitions that help, e.g. 'active means status = A'"),
      }),
    },
  );
}
