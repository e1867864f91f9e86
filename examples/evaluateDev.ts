/**
 * Evaluate the agent on the demo dev split: ask each question, then let the reward evaluator agent
 * compare the answer with the gold query (execution match) and explain the score.
 * Run: npx tsx examples/evaluateDev.ts   (GL_RL_EXAMPLES_LIMIT=N questions, default 10)
 */
import {
  rewardEvaluatorMachine,
  loadDataset,
  createText2SqlAgent,
  createActorRuntime,
  openDatabase,
  ensureDemoModel,
  createSqlRewardEnvironment,
} from "../index.js";

const limit = Number(process.env.GL_RL_EXAMPLES_LIMIT ?? 10);
const model = process.env.GL_RL_MODEL ?? (await ensureDemoModel());
const db = await openDatabase("demo");
const agent = await createText2SqlAgent({ model, db, candidates: 4 });
const runtime = createActorRuntime();
const environment = await createSqlRewardEnvironment(db);

try {
  const dev = (await loadDataset("dev")).slice(0, limit);
  let matches = 0;
  for (const item of dev) {
    const answer = await agent.ask(item.question);
    const candidate = { question: item.question, completion: answer.sql ?? "", sql: answer.sql, goldSql: item.sql };
    const { samples, totals, feedback } = await runtime.call(rewardEvaluatorMachine, {
      candidates: [candidate],
      environment,
    });
    if (samples[0]!.match) matches++;
    console.log(
      `${samples[0]!.match ? "✓" : "✗"} reward ${totals[0]!.toFixed(2)}  ${item.question}\n    ${feedback[0]}`,
    );
  }
  console.log(`execution accuracy: ${matches}/${dev.length} = ${(matches / Math.max(1, dev.length)).toFixed(2)}`);
} finally {
  await runtime.dispose();
  await agent.close();
  await db.close();
}
