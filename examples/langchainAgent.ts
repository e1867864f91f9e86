/**
 * A LangGraph ReAct agent that calls gl-rl as a tool (createText2SqlTool). The chat model here is a scripted
 * stand-in that asks one question and then reports the answer, so the example runs offline; put your own
 * tool-calling model there (ChatOpenAI, ChatAnthropic, ChatOllama …).
 * Run: npx tsx examples/langchainAgent.ts ["your question"]   (GL_RL_MODEL=<gguf> to use another model)
 */
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { createText2SqlAgent, createText2SqlTool, ensureDemoModel } from "../index.js";

const question = process.argv[2] ?? "How many active projects are there?";

/** Turn 1: call the tool with the user's question; turn 2: answer with what the tool returned. */
class ScriptedToolCaller extends FakeListChatModel {
  override bindTools() {
    return this;
  }
  override async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const last = messages.at(-1)!;
    const message =
      last.getType() === "tool"
        ? new AIMessage(`The database says: ${String(last.content)}`)
        : new AIMessage({ content: "", tool_calls: [{ id: "call-1", name: "query_database", args: { question } }] });
    return { generations: [{ text: String(message.content), message }] };
  }
}

const sqlAgent = await createText2SqlAgent({ model: process.env.GL_RL_MODEL ?? (await ensureDemoModel()), db: "demo" });
try {
  const app = createReactAgent({
    llm: new ScriptedToolCaller({ responses: [] }),
    tools: [createText2SqlTool(sqlAgent, { about: "the demo general ledger (projects, invoices, timesheets …)" })],
  });
  const { messages } = await app.invoke({ messages: [{ role: "user", content: question }] });
  for (const m of messages) console.log(`${m.getType().padEnd(6)} ${typeof m.content === "string" ? m.content : ""}`);
  const toolAnswer = JSON.parse(String(messages.find((m) => m.getType() === "tool")!.content));
  console.log(`sql:    ${toolAnswer.sql ?? "(none)"}`);
} finally {
  await sqlAgent.close();
}
