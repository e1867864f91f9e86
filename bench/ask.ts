/**
 * `gl-rl ask` latency and the orchestration's overhead. `npx tsx bench/ask.ts [model.gguf]` (default: the
 * tiny model, untrained, written to a temp dir). Prints tables; never part of the tests.
 *
 * 1. ask latency p50/p95: sequential asks of dev-split questions through the agent (generation cache off,
 *    so the model runs every time), 4 candidates.
 * 2. overhead: the same pipeline (link → generate → validate → execute → vote) as direct function calls
 *    vs through the actors (XState, runtime) and the graph (LangGraph, MemorySaver checkpoints), each run
 *    ROUNDS times alternately; (a) with a scripted model (no model time: the pure overhead against the
 *    validator's and PGlite's work) and (b) with the tiny model, where the ratio is taken at equal model
 *    time (the model's speed on a shared CPU varies several-fold between calls).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scoreCandidates } from "../agents/generatorAgent.js";
import { createScriptedTextGenerator } from "../models/scriptedTextGenerator.js";
import { loadDataset } from "../data/loadDataset.js";
import { temperatureLadder } from "../models/generationParams.js";
import { loadModel } from "../models/loadModel.js";
import type { TextGenerator } from "../models/textGenerator.js";
import { writeTinyModel } from "../models/writeTinyModel.js";
import { createText2SqlAgent } from "../orchestrator/text2sqlAgent.js";
import { taskDatabase } from "../task/taskDatabase.js";
import { linkQuestion, promptStyleForModel, taskPrompt } from "../task/text2sqlPrompt.js";
import { resultKey, voteOnResults } from "../orchestrator/voteOnResults.js";
import { openDatabase } from "../sql/openDatabase.js";
import { introspectSchema } from "../sql/schemaModel.js";
import { validateSql } from "../sql/validateSql.js";

const N = 4;
const ASKS = Number(process.env.BENCH_ASKS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const params = { maxTokens: 48 };

const modelPath =
  process.argv[2] ??
  (await writeTinyModel({ out: join(mkdtempSync(join(tmpdir(), "bench-ask-")), "tiny.gguf"), seed: 1 })).path;
const model = await loadModel({ model: modelPath, gpu: process.env.GL_RL_GPU === "1" ? "auto" : false, sequences: N });
const db = await openDatabase("demo");
const schema = await introspectSchema(db);
const questions = (await loadDataset("dev")).map((d) => d.question);
const style = promptStyleForModel(model);
const task = taskDatabase(db, async () => schema);

/** The pipeline as plain function calls (no actors, no graph, no checkpoints). */
async function direct(generator: TextGenerator, question: string): Promise<{ sql: string | null; modelMs: number }> {
  const context = await linkQuestion(task, question); // as the agent's link node does, for every style
  const prompt = taskPrompt(style, { question }, style === "tiny" ? undefined : context);
  const temperatures = temperatureLadder(N);
  const t0 = performance.now();
  const completions = await generator.generateCandidates(prompt, N, { ...params, temperatures });
  const modelMs = performance.now() - t0;
  const candidates = scoreCandidates(completions, temperatures);
  const seen = new Map<string, Promise<string | null>>(); // each distinct SQL once, as the agents do
  const check = async (sql: string): Promise<string | null> => {
    if (!(await validateSql(sql, { schema, executor: db })).valid) return null;
    try {
      return resultKey((await db.execute(sql, { timeoutMs: 5000, maxRows: 1000 })).rows);
    } catch {
      return null;
    }
  };
  const keys = await Promise.all(
    candidates.map((c) => {
      if (c.sql === null) return null;
      if (!seen.has(c.sql)) seen.set(c.sql, check(c.sql));
      return seen.get(c.sql)!;
    }),
  );
  const vote = voteOnResults(candidates.map((c, i) => ({ sql: c.sql, confidence: c.confidence, resultKey: keys[i]! })));
  return { sql: vote.winner === null ? null : candidates[vote.winner]!.sql, modelMs };
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
const ms = (x: number) => `${x.toFixed(1)} ms`.padStart(11);

// 1. ask latency.
const agent = await createText2SqlAgent({ model, db, candidates: N, cacheSize: 0, generationParams: params });
await agent.ask(questions[0]!);
const latencies: number[] = [];
for (let i = 0; i < ASKS; i++) {
  const t0 = performance.now();
  await agent.ask(questions[i % questions.length]!);
  latencies.push(performance.now() - t0);
}
console.log(`\nask latency, ${style} prompt, ${N} candidates, ${ASKS} asks (${modelPath.split("/").pop()})`);
console.log(
  `  p50 ${ms(pct(latencies, 0.5))}   p95 ${ms(pct(latencies, 0.95))}   mean ${ms(latencies.reduce((a, b) => a + b, 0) / latencies.length)}`,
);
await agent.close();

// 2. overhead: direct calls vs actors + graph, alternating. Model time on this shared CPU varies several-fold
// from call to call, so besides the totals each path's time outside the model call is measured, and the
// ratio is reported at equal model time: (model + graph's other time) / (model + direct's other time).
async function overhead(label: string, generator: TextGenerator): Promise<void> {
  const viaGraph = await createText2SqlAgent({
    model: generator,
    db,
    candidates: N,
    cacheSize: 0,
    generationParams: params,
    promptStyle: style,
    maxCorrections: 0,
  });
  let graphModelMs = 0;
  viaGraph.events.on("candidate_generated", (e) => {
    graphModelMs = e.durationMs;
  });
  const t = {
    direct: [] as number[],
    graph: [] as number[],
    directOther: [] as number[],
    graphOther: [] as number[],
    model: [] as number[],
  };
  for (let r = -1; r < ROUNDS; r++) {
    // round −1 warms both up
    const q = questions[(r + 1) % questions.length]!;
    let t0 = performance.now();
    const d = await direct(generator, q);
    const directMs = performance.now() - t0;
    t0 = performance.now();
    await viaGraph.ask(q);
    const graphMs = performance.now() - t0;
    if (r < 0) continue;
    t.direct.push(directMs);
    t.graph.push(graphMs);
    t.model.push(d.modelMs, graphModelMs);
    t.directOther.push(directMs - d.modelMs);
    t.graphOther.push(graphMs - graphModelMs);
  }
  await viaGraph.close();
  const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, pct(v, 0.5)])) as Record<keyof typeof t, number>;
  const ratio = (m.model + m.graphOther) / (m.model + m.directOther);
  console.log(
    `  ${label.padEnd(32)} ${ms(m.direct)} ${ms(m.graph)} ${ms(m.directOther)} ${ms(m.graphOther)}   ${ratio.toFixed(2)}×`,
  );
}

console.log(`\norchestration overhead (medians of ${ROUNDS} rounds; "other" = time outside the model call)`);
console.log(
  `  ${"pipeline".padEnd(32)} ${"direct".padStart(11)} ${"graph".padStart(11)} ${"direct other".padStart(11)} ${"graph other".padStart(11)}   ratio at equal model time`,
);
const gold = await loadDataset("dev");
await overhead(
  "scripted model (no model time)",
  createScriptedTextGenerator((prompt) => gold.find((d) => prompt.startsWith(d.question))?.sql ?? "SELECT 1"),
);
await overhead("tiny model", model);

await model.dispose();
await db.close();
