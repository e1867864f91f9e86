/**
 * What the test suite (docs/execution-match.md "Test suite") costs: the build of K variants of the demo database
 * (PGlite clone; PostgreSQL scratch schemas with --db postgres://…), and the reward time of a GRPO-sized batch
 * — 4 prompts × 8 completions, the shape of DEFAULT_GRPO_CONFIG — with K = 0 (the database alone) and K = 3.
 * The completions are dev golds: each prompt's own gold and the golds of 7 other dev questions (queries that run
 * and mostly do not match, as a policy's samples), so every candidate executes everywhere it can.
 *
 * `npx tsx bench/testSuite.ts [--db demo|postgres://…] [--steps 10] [--k 3]` — prints one table.
 */
import { loadDataset } from "../data/loadDataset.js";
import { createGoldResultCache, prepareRewardSamples } from "../rewards/prepareRewardSamples.js";
import { createSqlRewardEnvironment } from "../rewards/sqlRewardEnvironment.js";
import { databaseVariants } from "../sql/databaseVariants.js";
import { openDatabase } from "../sql/openDatabase.js";

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : undefined;
};
const steps = Number(option("--steps") ?? 10);
const k = Number(option("--k") ?? 3);
const db = await openDatabase(option("--db") ?? "demo");
const dev = await loadDataset("dev");

const t0 = performance.now();
const variants = await databaseVariants(db, { k });
const buildMs = performance.now() - t0;

const executeOptions = { timeoutMs: 5000, maxRows: 1000 };
const rows: string[] = [];
const stats: Record<string, number[]> = {};
for (const suite of [0, k]) {
  // A fresh environment per arm: the gold caches start empty, as in a run.
  const env = await createSqlRewardEnvironment(db, executeOptions, { suite });
  const gold = createGoldResultCache(env);
  const times: number[] = [];
  let matches = 0;
  let suiteMatches = 0;
  for (let step = 0; step < steps; step++) {
    const prompts = dev.slice(step * 4, step * 4 + 4);
    const batch = prompts.flatMap((item, p) =>
      Array.from({ length: 8 }, (_, j) => {
        const sql = j === 0 ? item.sql : dev[(step * 4 + p + 17 * j) % dev.length]!.sql;
        return { question: item.question, completion: sql, sql, goldSql: item.sql };
      }),
    );
    const started = performance.now();
    const samples = await prepareRewardSamples(batch, env, gold);
    times.push(performance.now() - started);
    matches += samples.filter((s) => s.match === true).length;
    suiteMatches += samples.filter((s) => (s.suiteMatch ?? s.match) === true).length;
  }
  stats[String(suite)] = times;
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const sorted = [...times].sort((a, b) => a - b);
  rows.push(
    `| ${suite} | ${mean.toFixed(0)} | ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} | ${sorted.at(-1)!.toFixed(0)} | ${matches} | ${suiteMatches} |`,
  );
}
await db.close();
console.log(
  `${variants.description}: ${k} variants built in ${(buildMs / 1000).toFixed(1)} s (${variants.mechanism}); ${steps} batches of 4 prompts × 8 completions`,
);
console.log("");
console.log("| suite K | reward ms per batch (mean) | median | max | EX matches | test-suite matches |");
console.log("|---|---|---|---|---|---|");
for (const row of rows) console.log(row);
