import { afterAll, describe, expect, it } from "@jest/globals";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakePolicy } from "../fakePolicy.js";
import { learningRateAt } from "./learningRateSchedule.js";
import { resolveSftConfig } from "./sftConfig.js";
import { permutation, sftLoss, trainSft, type SftExample } from "./sftTrainer.js";

const dir = mkdtempSync(join(tmpdir(), "sft-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Completions mostly use token 3: a unigram policy should learn to put its mass there.
const train: SftExample[] = Array.from({ length: 12 }, (_, i) => ({
  promptTokens: [0, 1],
  completionTokens: [3, 3, i % 3 === 0 ? 4 : 3],
}));

describe("learningRateAt", () => {
  it("warms up linearly then decays by cosine to the floor", () => {
    const s = { peak: 1, warmupSteps: 4, totalSteps: 14, min: 0.1 };
    expect(learningRateAt(0, s)).toBeCloseTo(0.25, 12);
    expect(learningRateAt(3, s)).toBeCloseTo(1, 12);
    expect(learningRateAt(4, s)).toBeCloseTo(1, 12);
    expect(learningRateAt(9, s)).toBeCloseTo(0.1 + 0.9 * 0.5, 12);
    expect(learningRateAt(14, s)).toBeCloseTo(0.1, 12);
  });
});

describe("resolveSftConfig", () => {
  it("fills defaults and explains bad values", () => {
    expect(resolveSftConfig().batchSize).toBe(8);
    expect(() => resolveSftConfig({ batchSize: 0 })).toThrow(/batchSize/);
    expect(() => resolveSftConfig({ epoch: 2 } as never)).toThrow(/unknown SFT config field 'epoch'/);
  });
});

describe("trainSft (fake policy)", () => {
  it("lowers the training loss and writes metrics, eval records and a checkpoint", async () => {
    const policy = new FakePolicy(5);
    const config = resolveSftConfig({
      outDir: join(dir, "a"),
      epochs: 4,
      batchSize: 4,
      gradientAccumulation: 1,
      learningRate: 2,
      warmupSteps: 2,
      evalEvery: 3,
      maxGradNorm: 0,
    });
    const before = await sftLoss(policy, train);
    const r = await trainSft({
      policy,
      train,
      dev: train.slice(0, 3),
      config,
      evaluate: async () => ({ execution_accuracy: 0.5 }),
    });
    expect(r.steps).toBe(12);
    expect(await sftLoss(policy, train)).toBeLessThan(before - 0.5);
    const lines = readFileSync(r.metricsPath, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.eval !== true)).toHaveLength(12);
    expect(lines.filter((l) => l.eval === true).map((l) => l.step)).toEqual([3, 6, 9, 12]);
    expect(lines.find((l) => l.eval === true)!.execution_accuracy).toBe(0.5);
    expect(lines[0]!.loss).toBeCloseTo(before, 5); // the first step's objective is the loss before the update
  });

  it("resumes after a simulated kill and ends exactly where an uninterrupted run ends", async () => {
    const base = {
      epochs: 2,
      batchSize: 3,
      gradientAccumulation: 2,
      learningRate: 1,
      warmupSteps: 1,
      checkpointEvery: 1,
      maxGradNorm: 0,
      seed: 7,
    };
    const straight = new FakePolicy(5);
    await trainSft({
      policy: straight,
      train,
      config: resolveSftConfig({ ...base, outDir: join(dir, "straight") }),
    });

    const killed = new FakePolicy(5);
    const config = resolveSftConfig({ ...base, outDir: join(dir, "killed") });
    const first = await trainSft({ policy: killed, train, config, stopAfterSteps: 2 });
    expect(first.steps).toBe(2);
    const revived = new FakePolicy(5); // a fresh process: weights come only from the checkpoint
    const second = await trainSft({ policy: revived, train, config });
    expect(second.resumedFrom).toBe(2);
    expect(second.steps).toBe(4);
    Array.from(straight.theta).forEach((t, v) => {
      expect(revived.theta[v]).toBeCloseTo(t, 10);
    });
  });

  it("shuffles deterministically per seed", () => {
    expect(permutation(10, 3)).toEqual(permutation(10, 3));
    expect(permutation(10, 3)).not.toEqual(permutation(10, 4));
    expect([...permutation(10, 3)].sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
  });
});
