/**
 * Score the agent on the demo dev split with the reward GRPO trains on: ask each question, execute the gold
 * query, compare (execution match) and show every reward component.
 * Run: npx tsx examples/evaluateDev.ts   (GL_RL_EXAMPLES_LIMIT=N questions, default 10)
 */
import { createText2SqlAgent, ensureDemoModel } from "../index.js";
import { openDatabase } from "../sql.js";
import {
  DEFAULT_REWARD_COMPONENTS,
  createSqlRewardEnvironment,
  createWeightedReward,
  loadDataset,
  prepareRewardSamples,
} from "../train.js";

const limit = Number(process.env.GL_RL_EXAMPLES_LIMIT ?? 10);
const model = process.env.GL_RL_MODEL ?? (await ensureDemoModel());
const db = await openDatabase("demo");
const agent = await createText2SqlAgent({ model, db, candidates: 4 });
const environment = await createSqlRewardEnvironment(db);
const reward = createWeightedReward({ components: DEFAULT_REWARD_COMPONENTS() });

try {
  const dev = (await loadDataset("dev")).slice(0, limit);
  let matches = 0;
  for (const item of dev) {
    const answer = await agent.ask(item.question, item.evidence ? { evidence: item.evidence } : {});
    const candidate = { question: item.question, completion: answer.sql ?? "", sql: answer.sql, goldSql: item.sql };
    const samples = await prepareRewardSamples([candidate], environment);
    const { totals, components } = await reward(samples);
    const match = components.execution_match?.[0] === 1;
    if (match) matches++;
    const parts = Object.entries(components)
      .filter(([, values]) => values[0] !== null)
      .map(([name, values]) => `${name} ${values[0]!.toFixed(2)}`);
    console.log(`${match ? "✓" : "✗"} reward ${totals[0]!.toFixed(2)}  ${item.question}\n    ${parts.join(", ")}`);
  }
  console.log(`execution accuracy: ${matches}/${dev.length} = ${(matches / Math.max(1, dev.length)).toFixed(2)}`);
} finally {
  await agent.close();
  await db.close();
}
