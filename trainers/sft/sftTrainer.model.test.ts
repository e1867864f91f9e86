/**
 * trainSft on the real native extension: a run "killed" after step 3 (last checkpoint at step 2) and
 * resumed in a fresh policy continues exactly as an uninterrupted run (same losses at every later step).
 */
import { afterAll, describe, expect, test } from "@jest/globals";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mulberry32 } from "../../runtime/mulberry32.js";
import { writeTinyModel } from "../../models/writeTinyModel.js";
import { NativePolicy } from "../nativePolicy.js";
import { resolveSftConfig } from "./sftConfig.js";
import { trainSft, type SftExample } from "./sftTrainer.js";

const dir = mkdtempSync(join(tmpdir(), "sft-resume-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Six pseudo-random examples of different lengths over the first `vocab` tokens. */
function examples(vocab: number): SftExample[] {
  const random = mulberry32(7);
  const next = (): number => Math.floor(random() * vocab);
  return Array.from({ length: 6 }, (_, i) => ({
    promptTokens: Array.from({ length: 3 + i }, next),
    completionTokens: Array.from({ length: 4 + (i % 3) }, next),
  }));
}

const lossesByStep = (outDir: string): Map<number, number> => {
  const steps = new Map<number, number>();
  for (const line of readFileSync(join(outDir, "metrics.jsonl"), "utf8").trim().split("\n")) {
    const r = JSON.parse(line) as { step: number; loss?: number };
    if (r.loss !== undefined) steps.set(r.step, r.loss); // a resumed run rewrites the steps after its checkpoint
  }
  return steps;
};

describe("trainSft resume (native)", () => {
  test("after a kill, the resumed run reproduces the uninterrupted run's losses", async () => {
    const model = await writeTinyModel({
      out: join(dir, "tiny.gguf"),
      seed: 5,
      dims: { embedding: 32, layers: 2, heads: 4, kvHeads: 2, ffn: 64, context: 64 },
    });
    const train = examples(model.vocabSize);
    const config = (outDir: string) =>
      resolveSftConfig({
        outDir,
        batchSize: 2,
        epochs: 2,
        learningRate: 5e-3,
        warmupSteps: 1,
        checkpointEvery: 2,
        evalEvery: 0,
        seed: 3,
      });
    const create = () => NativePolicy.create({ modelPath: model.path, trainable: "all", threads: 1 });

    const whole = join(dir, "whole");
    const a = await create();
    const full = await trainSft({ policy: a, train, config: config(whole) });
    await a.dispose();
    expect(full.steps).toBe(6);

    const killed = join(dir, "killed");
    const b = await create();
    const partial = await trainSft({ policy: b, train, config: config(killed), stopAfterSteps: 3 });
    await b.dispose();
    expect(partial.steps).toBe(3);
    const c = await create();
    const resumed = await trainSft({ policy: c, train, config: config(killed) });
    await c.dispose();
    expect(resumed.resumedFrom).toBe(2);
    expect(resumed.steps).toBe(6);

    const expected = lossesByStep(whole);
    const actual = lossesByStep(killed);
    expect([...actual.keys()]).toEqual([1, 2, 3, 4, 5, 6]);
    for (const [step, loss] of expected) expect(actual.get(step)).toBeCloseTo(loss, 5);
    expect(resumed.finalLoss).toBeCloseTo(full.finalLoss, 5);
    expect(expected.get(6)!).toBeLessThan(expected.get(1)!);
  }, 60_000);
});
