/**
 * GRPO with its rollouts on a real llama-server (router mode, built from node-llama-cpp's llama.cpp source by
 * test/llamaServer.ts): the server samples, the trainer trains, each step's adapter reaches the server through the
 * preset file, and the loss corrects the sampler/trainer mismatch (docs/grpo.md "Rollout servers").
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadDataset, type DatasetItem } from "../../data/loadDataset.js";
import { InputError } from "../../errors.js";
import { DEFAULT_REWARD_COMPONENTS, type RewardComponent } from "../../rewards/weightedReward.js";
import { openDatabase } from "../../sql/openDatabase.js";
import type { SqlExecutor } from "../../sql/sqlExecutor.js";
import { DEMO_MODEL, type RunningLlamaServer, startLlamaServer } from "../../test/llamaServer.js";
import { startStubHttpServer } from "../../test/stubHttpServer.js";
import { runGrpo } from "../grpo/grpoRun.js";
import type { GrpoStepMetrics } from "../grpo/grpoStep.js";
import { runGlRl } from "../../cli/runGlRl.js";
import { writeTinyModel } from "../../models/writeTinyModel.js";
import { openRolloutServers, rolloutModelId } from "./rolloutServers.js";

const dir = mkdtempSync(join(tmpdir(), "rollout-servers-test-"));
const preset = join(dir, "rollout.ini");
let router: RunningLlamaServer;
let executor: SqlExecutor;
let trainItems: DatasetItem[];
let model: string;

// Rewards that surely vary within a group: the default mix plus a length term.
const rewardComponents = (): Record<string, RewardComponent> => ({
  ...DEFAULT_REWARD_COMPONENTS({ bareSql: true }),
  length: { fn: async (samples) => samples.map((s) => s.completion.length / 40), weight: 1 },
});

const readJsonl = (path: string) =>
  readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);

beforeAll(async () => {
  writeFileSync(preset, ""); // the router needs the file to exist; the trainer writes its sections
  // A random tiny Qwen2 (as grpoRun.model.test.ts): its samples differ within a group, so the rewards vary.
  ({ path: model } = await writeTinyModel({
    out: join(dir, "tiny.gguf"),
    seed: 3,
    dims: { embedding: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 128, context: 256 },
  }));
  router = await startLlamaServer({ preset });
  executor = await openDatabase("demo");
  trainItems = (await loadDataset("train")).slice(0, 8);
}, 40 * 60_000); // the first run builds llama-server (≈15 min, once per llama.cpp commit)

afterAll(async () => {
  await router?.stop();
  await executor?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("GRPO rollouts on llama-server", () => {
  test("two steps with one worker: KL 0 at step 1, step 2 sampled by step 1's adapter, the mismatch corrected", async () => {
    const outDir = join(dir, "run");
    const steps: GrpoStepMetrics[] = [];
    const result = await runGrpo(
      {
        model,
        rolloutUrls: [router.url],
        rolloutPreset: preset,
        groupSize: 6, // more than the server's 4 slots: each group goes as two requests
        promptsPerStep: 2,
        maxCompletionTokens: 10,
        maskTruncatedCompletions: false, // a random model never stops: every completion hits the limit
        temperature: 1,
        learningRate: 3e-2, // large: step 1's adapter must move the log-probs well past the sampler's error
        beta: 0.04,
        lossType: "grpo",
        evalEvery: 0,
        checkpointEvery: 0,
        logCompletionsEvery: 1,
        maxSteps: 2,
        seed: 5,
        loraRank: 4,
        loraAlpha: 8,
        threads: 1,
        outDir,
      },
      {
        executor,
        trainItems,
        evalItems: trainItems.slice(0, 2),
        rewardComponents: rewardComponents(),
        onStep: (m) => steps.push(m),
      },
    );
    expect(result.steps).toBe(2);
    const [first, second] = steps as [GrpoStepMetrics, GrpoStepMetrics];

    // Step 1 samples the base model on the server: the policy IS the reference, and the server's log-probs of its
    // own tokens agree with the trainer's forward to well under a hundredth of a nat.
    expect(first.klMean).toBeCloseTo(0, 6);
    expect(first.sampling!.ratioMean).toBeCloseTo(1, 1);
    expect(first.sampling!.cappedFraction).toBe(0);
    expect(first.sampling!.logpDiffMean).toBeLessThan(0.01);
    expect(first.sampling!.ratioMin).toBeGreaterThan(0.8);
    expect(first.sampling!.ratioMax).toBeLessThanOrEqual(2);

    // Step 2: the policy has moved (KL > 0) — and the server sampled with the moved adapter: its log-probs still
    // agree with the trainer's at θ₁, far closer than the base model's would (|Δ| ≈ √(2·KL) apart).
    expect(second.klMean).toBeGreaterThan(1e-3);
    expect(second.sampling!.logpDiffMean).toBeLessThan(0.01);
    expect(second.sampling!.logpDiffMean).toBeLessThan(0.25 * Math.sqrt(2 * second.klMean));

    // completions.jsonl names the adapter that sampled each completion: none at step 1, step 1's at step 2.
    const records = readJsonl(result.completionsPath);
    const step1 = join(outDir, "adapters", "adapter-1.gguf");
    expect(records.filter((r) => r.step === 1).map((r) => r.adapter)).toEqual(new Array(12).fill(null));
    expect(records.filter((r) => r.step === 2).map((r) => r.adapter)).toEqual(new Array(12).fill(step1));
    // The swap (preset rewrite, reload, a new child loaded) is timed inside the step: more than a file write.
    expect(second.timings.swapMs).toBeGreaterThan(5);

    // The server now serves step 2's adapter from the preset file, and nothing else of this run.
    const step2 = join(outDir, "adapters", "adapter-2.gguf");
    expect(readFileSync(preset, "utf8")).toContain(`[${rolloutModelId(step2)}]\nmodel = ${model}\nlora = ${step2}\n`);
    const listed = (await (await fetch(`${router.url}/models`)).json()) as {
      data: { id: string; status: { value: string; args: string[] } }[];
    };
    expect(listed.data.map((m) => [m.id, m.status.value])).toEqual([[rolloutModelId(step2), "loaded"]]);
    expect(listed.data[0]!.status.args.join(" ")).toContain(`--lora ${step2}`);

    // The run's evaluation asked the servers too (the final one, on the two eval items).
    expect(readJsonl(result.metricsPath).find((l) => l.eval === true)).toMatchObject({ dev_n: 2 });

    // metrics.jsonl logs the correction per step.
    const logged = readJsonl(result.metricsPath).filter((l) => typeof l.loss === "number");
    expect(logged.map((l) => (l.sampling as { ratioMean: number }).ratioMean)).toEqual([
      first.sampling!.ratioMean,
      second.sampling!.ratioMean,
    ]);
  }, 300_000);

  test("gl-rl train grpo --rollout-url … --rollout-preset …: --turns 2: a step through the binary, and exit 2 on a server that is no router", async () => {
    const outDir = join(dir, "cli-run");
    const config = join(dir, "grpo.json");
    writeFileSync(
      config,
      JSON.stringify({
        model,
        groupSize: 4,
        promptsPerStep: 1,
        maxCompletionTokens: 8,
        maskTruncatedCompletions: false,
        evalEvery: 0,
        evalLimit: 1,
        loraRank: 4,
        loraAlpha: 8,
      }),
    );
    const args = ["train", "grpo", "--config", config, "--max-steps", "1", "--out", outDir];
    // Episodes of ask's correction loop (--turns 2) sample their correction turns on the server too.
    const run = await runGlRl([...args, "--turns", "2", "--rollout-url", router.url, "--rollout-preset", preset], {
      timeoutMs: 120_000,
    });
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout.trim().split("\n").at(-1)!)).toMatchObject({ steps: 1 });
    const step = readJsonl(join(outDir, "metrics.jsonl")).find((l) => l.step === 1 && typeof l.loss === "number")!;
    const sampling = step.sampling as { logpDiffMean: number; ratioMax: number; cappedFraction: number };
    expect(sampling.logpDiffMean).toBeLessThan(0.05); // the server sampled the trainer's base model
    expect(sampling.ratioMax).toBeLessThanOrEqual(2); // the default cap
    // Logged only by the multi-turn step: 1 (no episode corrected) to 2 (every one).
    expect(step.turnsMean).toBeGreaterThanOrEqual(1);
    expect(step.turnsMean).toBeLessThanOrEqual(2);
    expect(readFileSync(preset, "utf8")).toContain(join(outDir, "adapters", "adapter-1.gguf"));

    const single = await startLlamaServer({ model });
    try {
      const refused = await runGlRl([...args, "--rollout-url", single.url, "--rollout-preset", preset]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/not a llama-server in router mode/);
      expect(refused.stderr).toContain(`--models-preset ${preset}`);
    } finally {
      await single.stop();
    }
  }, 240_000);

  test("a llama-server with one model, or one that does not read the preset file, is refused with how to start it", async () => {
    const single = await startLlamaServer();
    try {
      const error = await openRolloutServers({ urls: [single.url], presetPath: preset, baseModel: DEMO_MODEL }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).message).toMatch(/not a llama-server in router mode .*'llamacpp'/);
      expect((error as InputError).hint).toContain(`--models-preset ${preset}`);
    } finally {
      await single.stop();
    }
    const servers = await openRolloutServers({
      urls: [router.url],
      presetPath: join(dir, "other.ini"),
      baseModel: DEMO_MODEL,
    });
    const error = await servers.setAdapter(join(dir, "never-written.gguf")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toMatch(/did not pick up .*other\.ini/);
  }, 120_000);

  test("two workers on one preset file: both load each version, and the groups take turns between them", async () => {
    const second = await startLlamaServer({ preset });
    // Loopback proxies in front of both, counting the completion requests each server gets.
    const proxies = await Promise.all([router, second].map((s) => startStubHttpServer(() => "forward", s.url)));
    try {
      const servers = await openRolloutServers({
        urls: proxies.map((p) => p.url),
        presetPath: preset,
        baseModel: model,
      });
      const adapter = join(dir, "run", "adapters", "adapter-1.gguf"); // written by the two-step run above
      await servers.setAdapter(adapter);
      for (const server of [router, second]) {
        const listed = (await (await fetch(`${server.url}/models`)).json()) as {
          data: { id: string; status: { value: string } }[];
        };
        expect(listed.data.map((m) => [m.id, m.status.value])).toEqual([[rolloutModelId(adapter), "loaded"]]);
      }
      const groups = await Promise.all(
        [0, 1, 2, 3].map((k) =>
          servers.generateCandidates({ text: `question ${k}` }, 2, {
            maxTokens: 4,
            fullDistribution: true,
            temperatures: [1, 1],
          }),
        ),
      );
      expect(groups.flat().every((c) => c.adapter === adapter && c.logprobs.length === c.tokens.length)).toBe(true);
      // One request per group (one temperature, consecutive seeds), the four groups two per server.
      expect(proxies.map((p) => p.seen.filter((r) => r.path === "/v1/completions").length)).toEqual([2, 2]);
    } finally {
      await Promise.all(proxies.map((p) => p.close()));
      await second.stop();
    }
  }, 120_000);
});
