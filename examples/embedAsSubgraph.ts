/**
 * Embed the text-to-SQL graph in your own LangGraph app: it reads `question` and writes `answer`.
 * Here a parent graph routes low-confidence answers to a (pretend) human review step.
 * Run: npx tsx examples/embedAsSubgraph.ts
 */
import { Annotation, END, MemorySaver, START, StateGraph } from "@langchain/langgraph";
import { ensureDemoModel, createText2SqlAgent, type Text2SqlAnswer } from "../index.js";

const model = process.env.GL_RL_MODEL ?? (await ensureDemoModel());
const agent = await createText2SqlAgent({ model, db: "demo", candidates: 4 });

const App = Annotation.Root({
  question: Annotation<string>,
  answer: Annotation<Text2SqlAnswer | null>,
  route: Annotation<string>,
});

const app = new StateGraph(App)
  .addNode("text2sql", agent.graph) // the compiled graph is a node
  .addNode("review", (s) => ({ route: `sent to review (confidence ${s.answer?.confidence.toFixed(2)})` }))
  .addNode("report", (s) => ({ route: `answered with ${s.answer?.rows.length} rows` }))
  .addEdge(START, "text2sql")
  .addConditionalEdges("text2sql", (s) => ((s.answer?.confidence ?? 0) >= 0.5 ? "report" : "review"), [
    "report",
    "review",
  ])
  .addEdge("review", END)
  .addEdge("report", END)
  .compile({ checkpointer: new MemorySaver() });

try {
  const out = await app.invoke(
    { question: "How many active projects are there?" },
    { configurable: { thread_id: "example" } },
  );
  console.log(`sql:   ${out.answer?.sql ?? "(none)"}`);
  console.log(`route: ${out.route}`);
} finally {
  await agent.close();
}
