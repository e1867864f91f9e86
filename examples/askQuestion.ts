/**
 * Ask one question: the agents generate candidates, validate, execute sandboxed, vote, and answer.
 * Run: npx tsx examples/askQuestion.ts ["your question"]   (GL_RL_MODEL=<gguf> to use another model)
 */
import { ensureDemoModel, createText2SqlAgent } from "../index.js";

const question = process.argv[2] ?? "Show all active projects with budget over 100000";
const model = process.env.GL_RL_MODEL ?? (await ensureDemoModel());

// The agent loads the model and opens the demo database (PGlite, in memory) itself, and closes them.
const agent = await createText2SqlAgent({ model, db: "demo", candidates: 4 });
try {
  const answer = await agent.ask(question);
  console.log(`question:   ${question}`);
  console.log(`sql:        ${answer.sql ?? "(none)"}`);
  console.log(`rows:       ${answer.rows.length}`, answer.rows.slice(0, 3));
  console.log(`confidence: ${answer.confidence.toFixed(2)}`);
  console.log(`why:        ${answer.explanation}`);
  for (const warning of answer.warnings) console.log(`warning:    ${warning}`);
} finally {
  await agent.close();
}
