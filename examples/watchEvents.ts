/**
 * Watch an ask as it happens: the typed event bus (every event timed) and the graph's stream.
 * Run: npx tsx examples/watchEvents.ts
 */
import { ensureDemoModel, createText2SqlAgent } from "../index.js";

const model = process.env.GL_RL_MODEL ?? (await ensureDemoModel());
const agent = await createText2SqlAgent({ model, db: "demo", candidates: 4 });
const at = (ms: number) => `${String(Math.round(ms)).padStart(6)} ms`;

agent.events.on("started", (e) => console.log(`${at(e.elapsedMs)}  started: ${e.question}`));
agent.events.on("candidate_generated", (e) =>
  console.log(`${at(e.elapsedMs)}  candidate ${e.index} (T=${e.temperature}): ${e.sql ?? "(no SQL)"}`),
);
agent.events.on("validated", (e) =>
  console.log(`${at(e.elapsedMs)}  validated ${e.index}: ${e.valid ? "valid" : e.errors[0]}`),
);
agent.events.on("executed", (e) =>
  console.log(`${at(e.elapsedMs)}  executed ${e.index}: ${e.ok ? `${e.rowCount} rows` : e.error}`),
);
agent.events.on("corrected", (e) => console.log(`${at(e.elapsedMs)}  correction ${e.attempt}: ${e.sql ?? "(no SQL)"}`));
agent.events.on("selected", (e) =>
  console.log(`${at(e.elapsedMs)}  selected: ${e.sql ?? "(none)"} (${e.votes}/${e.candidates} votes)`),
);

try {
  await agent.ask("How many employees are in each department?");

  // The same run as a LangGraph stream: node updates, plus the same events as `custom` chunks.
  for await (const [mode, chunk] of agent.stream("List the vendors")) {
    if (mode === "updates") console.log(`node done: ${Object.keys(chunk as object).join(", ")}`);
  }
} finally {
  await agent.close();
}
