/**
 * Does GRPO make the deployed agent better on questions it has not seen? Three arms — the SFT start, single-turn
 * GRPO, multi-turn GRPO (`--turns 2`) — with three seeds each at an equal wall-clock budget (`maxMinutes`), then
 * dev and test scored as `gl-rl eval --pipeline --json` scores them: single-shot EX, test-suite EX and the EX of
 * the full ask pipeline. Prints one table, mean ± sd over the seeds (docs/experiments.md).
 *
 * `npx tsx bench/grpoSeeds.ts [--minutes 10] [--seeds 0,1,2] [--out runs/seeds] [--config bench/grpoDemo.json]`
 * Needs the prompt file of the demo recipe: `npx gl-rl data augment --out runs/grpo-prompts.jsonl`. Resumable: a
 * run whose adapter.gguf exists is not trained again, an evaluation whose JSON exists is not repeated.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : undefined;
};
const minutes = Number(option("--minutes") ?? 10);
const seeds = (option("--seeds") ?? "0,1,2").split(",").map(Number);
const out = option("--out") ?? "runs/seeds";
const base = JSON.parse(readFileSync(option("--config") ?? "bench/grpoDemo.json", "utf8")) as Record<string, unknown>;
mkdirSync(out, { recursive: true });

const glRl = (args: string[]): string =>
  execFileSync("node", ["bin/gl-rl.mjs", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });

type Scores = Record<"execution_accuracy" | "test_suite_execution_accuracy" | "pipeline_execution_accuracy", number>;

/** dev and test scores of one adapter (none: the SFT start), cached as JSON beside the run. */
function evaluate(dir: string, adapter: string | undefined): Record<"dev" | "test", Scores> {
  const scores = {} as Record<"dev" | "test", Scores>;
  for (const split of ["dev", "test"] as const) {
    const file = join(dir, `eval-${split}.json`);
    if (!existsSync(file)) {
      mkdirSync(dir, { recursive: true });
      const report = glRl([
        "eval",
        "--split",
        split,
        "--pipeline",
        "--json",
        ...(adapter ? ["--adapter", adapter] : []),
      ]);
      writeFileSync(file, report);
    }
    scores[split] = JSON.parse(readFileSync(file, "utf8")) as Scores;
  }
  return scores;
}

const arms: { name: string; turns: number | null }[] = [
  { name: "SFT start", turns: null },
  { name: "GRPO, single-turn", turns: 1 },
  { name: "GRPO, multi-turn (--turns 2)", turns: 2 },
];
const results: { arm: string; seed: number; scores: Record<"dev" | "test", Scores> }[] = [];
for (const arm of arms) {
  if (arm.turns === null) {
    // Greedy single-shot is deterministic; the pipeline's candidates are seeded: one evaluation stands for every seed.
    const scores = evaluate(join(out, "sft"), undefined);
    for (const seed of seeds) results.push({ arm: arm.name, seed, scores });
    continue;
  }
  for (const seed of seeds) {
    const dir = join(out, `turns${arm.turns}-seed${seed}`);
    const adapter = join(dir, "adapter.gguf");
    if (!existsSync(adapter)) {
      const config = join(out, `turns${arm.turns}-seed${seed}.json`);
      writeFileSync(config, JSON.stringify({ ...base, seed, maxMinutes: minutes, evalEvery: 0, turns: arm.turns }));
      glRl(["train", "grpo", "--config", config, "--out", dir]);
    }
    results.push({ arm: arm.name, seed, scores: evaluate(dir, adapter) });
  }
}

const stat = (xs: number[]): string => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
  return `${(100 * mean).toFixed(1)} ± ${(100 * sd).toFixed(1)}`;
};
console.log(`${minutes} minutes per GRPO run, seeds ${seeds.join(", ")}; % mean ± sd over the seeds`);
console.log("");
console.log("| arm | dev EX | dev test-suite EX | dev pipeline EX | test EX | test test-suite EX | test pipeline EX |");
console.log("|---|---|---|---|---|---|---|");
for (const arm of arms) {
  const rows = results.filter((r) => r.arm === arm.name);
  const col = (split: "dev" | "test", key: keyof Scores) => stat(rows.map((r) => r.scores[split][key]));
  console.log(
    `| ${arm.name} | ${col("dev", "execution_accuracy")} | ${col("dev", "test_suite_execution_accuracy")} | ${col("dev", "pipeline_execution_accuracy")} | ${col("test", "execution_accuracy")} | ${col("test", "test_suite_execution_accuracy")} | ${col("test", "pipeline_execution_accuracy")} |`,
  );
}
