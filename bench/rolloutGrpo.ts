/**
 * Does GRPO train the same when a llama-server samples? (docs/grpo.md "Rollout servers"). The same run — config
 * `--config` (default bench/grpoDemo.json), same seed, `--minutes` each — in-process and with one llama-server router
 * on this machine (the importance-sampling correction on); one after the other, so neither slows the other.
 * Prints dev execution accuracy at each evaluation, mean reward over the last 20 steps, steps done, and the
 * correction's log-prob gap and ratios over the router run.
 *
 * `npx tsx bench/rolloutGrpo.ts [--config bench/grpoDemo.json] [--minutes 8] [--out runs/rollout-grpo]`
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { cliDemoModel } from "../cli/cliDemoModel.js";
import { startLlamaServer } from "../test/llamaServer.js";
import { runGrpo } from "../trainers/grpo/grpoRun.js";
import type { GrpoRunConfig } from "../trainers/grpo/grpoRunConfig.js";
import type { GrpoStepMetrics } from "../trainers/grpo/grpoStep.js";

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const config = JSON.parse(readFileSync(option("--config") ?? "bench/grpoDemo.json", "utf8")) as Partial<GrpoRunConfig>;
const minutes = Number(option("--minutes") ?? 8);
const out = resolve(option("--out") ?? "runs/rollout-grpo");
if (config.model === undefined || config.model === "demo") config.model = await cliDemoModel();

mkdirSync(out, { recursive: true });
const rows: string[][] = [];
for (const arm of ["in-process", "router"] as const) {
  const outDir = join(out, arm);
  rmSync(outDir, { recursive: true, force: true });
  const preset = join(out, "rollout.ini");
  writeFileSync(preset, "");
  const router = arm === "router" ? await startLlamaServer({ preset }) : null;
  const steps: GrpoStepMetrics[] = [];
  const evals: string[] = [];
  try {
    await runGrpo(
      {
        ...config,
        maxMinutes: minutes,
        maxSteps: 100_000,
        outDir,
        ...(router ? { rolloutUrls: [router.url], rolloutPreset: preset } : {}),
      },
      { resume: false, onStep: (m) => steps.push(m) },
    );
  } finally {
    await router?.stop();
  }
  for (const line of readFileSync(join(outDir, "metrics.jsonl"), "utf8").trim().split("\n")) {
    const entry = JSON.parse(line) as { eval?: boolean; step: number; dev_execution_accuracy?: number };
    if (entry.eval) evals.push(`${entry.step}: ${(100 * entry.dev_execution_accuracy!).toFixed(1)}`);
  }
  const last = steps.slice(-20);
  const gaps = steps.map((m) => m.sampling?.logpDiffMean ?? 0);
  rows.push([
    arm,
    String(steps.length),
    evals.join(", "),
    (last.reduce((a, m) => a + m.rewardMean, 0) / Math.max(1, last.length)).toFixed(3),
    arm === "router"
      ? `${(gaps.reduce((a, b) => a + b, 0) / gaps.length).toExponential(1)} / ${Math.max(...gaps).toExponential(1)} / ${Math.min(...steps.map((m) => m.sampling!.ratioMin)).toFixed(3)}–${Math.max(...steps.map((m) => m.sampling!.ratioMax)).toFixed(3)} / ${steps.reduce((a, m) => a + m.sampling!.cappedFraction, 0).toExponential(1)}`
      : "—",
  ]);
}
console.log(`GRPO for ${minutes} min each, ${option("--config") ?? "bench/grpoDemo.json"}:\n`);
console.log(
  "| sampler | steps | dev EX % at step | reward, last 20 steps | Δlogp mean / worst step, ratio range, Σ capped share |",
);
console.log("|---|---:|---|---:|---|");
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
