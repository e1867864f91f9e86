/**
 * A conversation in one thread: ask, refine ("now only …" reads with the previous question), then teach
 * the agent the right SQL; a similar question later reuses the correction.
 * Run: npx tsx examples/scriptedWorkflow.ts
 */
import { ensureDemoModel, createText2SqlAgent } from "../index.js";

const model = process.env.GL_RL_MODEL ?? (await ensureDemoModel());
const agent = await createText2SqlAgent({ model, db: "demo", candidates: 4 });
const threadId = "workflow";
const show = (step: string, a: { sql: string | null; rows: unknown[]; confidence: number }) =>
  console.log(
    `${step.padEnd(8)} ${a.sql ?? "(no SQL)"}  → ${a.rows.length} rows, confidence ${a.confidence.toFixed(2)}`,
  );

try {
  // 1. Ask.
  show("ask", await agent.ask("Show all active projects with budget over 100000", { threadId }));

  // 2. Refine: a follow-up in the same thread.
  const refined = await agent.ask("now only those starting in 2024", { threadId });
  show("refine", refined);
  console.log(`         read as: ${refined.warnings.find((w) => w.startsWith("read as")) ?? "(a new question)"}`);

  // 3. Correct: the user supplies the right SQL (validated before it is remembered) …
  const question = "Which active projects have a budget over 100000?";
  const correct = "SELECT name, budget FROM projects WHERE status = 'active' AND budget > 100000 ORDER BY budget DESC";
  await agent.feedback(question, correct);

  // … and a near-identical question later is answered with it among the candidates.
  const again = await agent.ask("which active projects have a budget over 100000");
  show("again", again);
  console.log(`         the correction was a candidate: ${again.candidates.some((c) => c.sql === correct)}`);
} finally {
  await agent.close();
}
