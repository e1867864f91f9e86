/**
 * How far can GRPO take a model by reweighting what it already samples? pass@k (trainers/eval/passAtK.ts) of a
 * model on a split at the GRPO sampling temperature, next to its greedy execution accuracy: n samples per
 * question (whole vocabulary, top-p 1 — GRPO's sampler), each extracted, validated, executed sandboxed on
 * the demo database and compared with the gold result. Questions no sample solves (pass@n = 0) give a GRPO
 * group zero reward variance, so no gradient: the greedy accuracy GRPO can reach from this model is bounded
 * by about pass@n. Per question it also counts the samples that write every string literal of the gold SQL
 * (a value the question names): a value no sample writes cannot be reinforced by any reward.
 *
 * `npx tsx bench/passAtK.ts [--model <gguf|openai:<url>>] [--adapter <gguf>] [--db demo|pglite:<dir>|postgres://…]
 *  [--split dev] [--prompt <style>] [--n 16] [--temperature 1] [--limit N] [--max-tokens 256] [--threads 2]
 *  [--suite 3] [--out per-question.jsonl]` — default: the demo model on dev of the demo database. Each sample is
 * scored twice: EX (the database) and test-suite EX (the database and --suite K variants of it, docs/execution-
 * match.md "Test suite"; 0 for none) — a sample right by EX alone copied an answer instead of computing it. Prompts are the task's
 * (task/text2sqlPrompt.ts, the style by model unless --prompt): what `ask` sends and GRPO trains on.
 */
import { GRPO_SAMPLING } from "../trainers/grpo/grpoRun.js";
import { writeFileSync } from "node:fs";
import { loadDataset } from "../data/loadDataset.js";
import { openTextGenerator } from "../models/openTextGenerator.js";
import { createGoldResultCache, prepareRewardSamples } from "../rewards/prepareRewardSamples.js";
import { openDatabase } from "../sql/openDatabase.js";
import { ensureDemoModel } from "../trainers/demoModel.js";
import { extractCandidateSql } from "../trainers/grpo/grpoRewardScorer.js";
import { sqlStringLiteralsOf } from "../sql/sqlLiterals.js";
import { sqlStringLiterals } from "../data/literalAugmentation.js";
import { passAtK } from "../trainers/eval/passAtK.js";
import type { PromptStyle } from "../models/promptTemplates.js";
import { taskDatabase } from "../task/taskDatabase.js";
import { buildTaskPrompts, promptStyleForModel } from "../task/text2sqlPrompt.js";
import { createSqlRewardEnvironment } from "../rewards/sqlRewardEnvironment.js";

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : undefined;
};
const n = Number(option("--n") ?? 16);
const temperature = Number(option("--temperature") ?? 1);
const split = option("--split") ?? "dev";
const limit = Number(option("--limit") ?? 0);
const maxTokens = Number(option("--max-tokens") ?? 256);
const threads = Number(option("--threads") ?? 2);
const adapter = option("--adapter");
const SEQUENCES = 8;

const items = (await loadDataset(split)).slice(0, limit > 0 ? limit : undefined);
const modelPath = option("--model") ?? (await ensureDemoModel());
const model = await openTextGenerator({
  model: modelPath,
  gpu: false,
  kvCacheF32: true,
  sequences: SEQUENCES,
  threads,
  download: false,
  ...(adapter ? { adapter } : {}),
});
const db = await openDatabase(option("--db") ?? "demo");
const style = (option("--prompt") as PromptStyle | undefined) ?? promptStyleForModel(model);
const prompts = await buildTaskPrompts(taskDatabase(db), style, items);
const suite = Number(option("--suite") ?? 3);
const env = await createSqlRewardEnvironment(db, undefined, { suite });
const gold = createGoldResultCache(env);
// What GRPO samples: exactly softmax(logits / T), no top-k/top-p, no re-scoring (trainers/grpo/grpoRun.ts).
const sampling = { ...GRPO_SAMPLING, maxTokens };

const t0 = performance.now();
const perQuestion: {
  question: string;
  greedy: boolean;
  correct: number;
  greedySuite: boolean;
  correctSuite: number;
  goldValues: number;
  withGoldValues: number;
}[] = [];
for (const [q, item] of items.entries()) {
  const prompt = prompts[q]!;
  const [greedy] = await model.generateCandidates(prompt, 1, { ...sampling, temperatures: [0] });
  const texts = [greedy!.text];
  for (let done = 0; done < n; done += SEQUENCES) {
    const m = Math.min(SEQUENCES, n - done);
    const completions = await model.generateCandidates(prompt, m, {
      ...sampling,
      temperatures: Array(m).fill(temperature),
      seeds: Array.from({ length: m }, (_, i) => 1000 * q + done + i + 1),
    });
    texts.push(...completions.map((c) => c.text));
  }
  const samples = await prepareRewardSamples(
    texts.map((text) => ({
      question: item.question,
      completion: text,
      sql: extractCandidateSql(text),
      goldSql: item.sql,
    })),
    env,
    gold,
  );
  const goldValues = sqlStringLiterals([item]);
  const withGoldValues = samples
    .slice(1)
    .filter((s) => s.sql !== null && goldValues.every((v) => sqlStringLiteralsOf(s.sql!).includes(v))).length;
  perQuestion.push({
    question: item.question,
    greedy: samples[0]!.match === true,
    correct: samples.slice(1).filter((s) => s.match === true).length,
    greedySuite: (samples[0]!.suiteMatch ?? samples[0]!.match) === true,
    correctSuite: samples.slice(1).filter((s) => (s.suiteMatch ?? s.match) === true).length,
    goldValues: goldValues.length,
    withGoldValues,
  });
  process.stderr.write(`\rpass@k ${q + 1}/${items.length}`);
}
process.stderr.write("\n");
const seconds = (performance.now() - t0) / 1000;
await db.close();
await model.dispose();

const mean = (f: (x: (typeof perQuestion)[number]) => number): number =>
  perQuestion.reduce((s, x) => s + f(x), 0) / perQuestion.length;
const ks = [1, 2, 4, 8, 16, 32, 64].filter((k) => k <= n);
console.log(
  `model ${modelPath}${adapter ? ` + ${adapter}` : ""}, split ${split} (n = ${perQuestion.length}, ${style} prompts), ${n} samples per question at T = ${temperature}, ${seconds.toFixed(0)} s`,
);
console.log("");
console.log(`| decoding | execution accuracy | test-suite EX (${suite} variants) |`);
console.log("|---|---|---|");
const pct = (f: (x: (typeof perQuestion)[number]) => number): string => `${(100 * mean(f)).toFixed(1)} %`;
console.log(`| greedy | ${pct((x) => Number(x.greedy))} | ${pct((x) => Number(x.greedySuite))} |`);
for (const k of ks)
  console.log(
    `| pass@${k} (T = ${temperature}) | ${pct((x) => passAtK(n, x.correct, k))} | ${pct((x) => passAtK(n, x.correctSuite, k))} |`,
  );
const never = perQuestion.filter((x) => x.correct === 0).length;
const always = perQuestion.filter((x) => x.correct === n).length;
console.log("");
console.log(
  `questions no sample solves: ${never} (${((100 * never) / perQuestion.length).toFixed(1)} %); every sample solves: ${always}; greedy wrong but some sample right: ${perQuestion.filter((x) => !x.greedy && x.correct > 0).length}`,
);
const withValues = perQuestion.filter((x) => x.goldValues > 0);
console.log(
  `questions whose gold SQL has string values: ${withValues.length}; no sample writes them all: ${withValues.filter((x) => x.withGoldValues === 0).length}`,
);
const out = option("--out");
if (out) writeFileSync(out, `${perQuestion.map((x) => JSON.stringify(x)).join("\n")}\n`);
