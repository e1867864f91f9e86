import { describe, expect, test } from "@jest/globals";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { isInputError } from "../../errors.js";
import {
  DEFAULT_GRPO_RUN_CONFIG,
  resolveGrpoRunConfig,
  type GrpoRunConfig,
} from "../../trainers/grpo/grpoRunConfig.js";
import { resolveTrainGrpoConfig, run } from "./trainGrpo.js";

const dir = mkdtempSync(join(tmpdir(), "train-grpo-cli-"));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe("gl-rl train grpo: config", () => {
  test("a config file with flags applied on top", async () => {
    const path = file(
      "ok.json",
      JSON.stringify({ model: "/models/base.gguf", maxSteps: 50, learningRate: 1e-4, outDir: "a" }),
    );
    const config = await resolveTrainGrpoConfig(path, {
      out: join(dir, "out"),
      maxSteps: 7,
      maxMinutes: 2.5,
      threads: 2,
    });
    expect(config).toMatchObject({
      model: "/models/base.gguf",
      maxSteps: 7,
      maxMinutes: 2.5,
      learningRate: 1e-4,
      outDir: resolve(dir, "out"),
      threads: 2,
      samplerThreads: 2,
    });
    expect(resolveGrpoRunConfig(config)).toMatchObject({
      groupSize: DEFAULT_GRPO_RUN_CONFIG.groupSize,
      database: "demo",
      promptStyle: "auto",
      maxSteps: 7,
    });
  });

  test.each([
    ["missing file", () => resolveTrainGrpoConfig(join(dir, "nope.json"), {}), /config file not found/],
    ["not JSON", () => resolveTrainGrpoConfig(file("bad.json", "{ model: "), {}), /is not JSON/],
    ["not an object", () => resolveTrainGrpoConfig(file("array.json", "[1]"), {}), /one JSON object/],
    ["zero steps", () => run(["--max-steps", "0"]), /at least 1/],
    ["no minutes", () => run(["--max-minutes", "0"]), /--max-minutes must be a positive number/],
    [
      "minutes not a number",
      () => run(["--max-minutes", "half"]),
      /--max-minutes must be a positive number, got 'half'/,
    ],
    ["a stray argument", () => run(["grpo.json"]), /unexpected argument/],
    ["zero turns", () => run(["--turns", "0"]), /--turns must be an integer from 1 to 8, got '0'/],
    ["nine turns", () => run(["--turns", "9"]), /--turns must be an integer from 1 to 8/],
    ["an unknown flag", () => run(["--steps", "3"]), /--steps/],
    ["an empty --rollout-url", () => run(["--rollout-url", " , "]), /--rollout-url needs at least one URL/],
    [
      "a rollout URL that is not http(s)",
      () => run(["--rollout-url", "localhost:8080", "--rollout-preset", "r.ini"]),
      /'localhost:8080' is not an http\(s\) URL/,
    ],
    [
      "rollout servers without their preset file",
      () => run(["--rollout-url", "http://127.0.0.1:9"]),
      /rolloutPreset = "" is invalid/,
    ],
  ] as [string, () => Promise<unknown>, RegExp][])("%s → InputError", async (_, call, message) => {
    const error = await Promise.resolve()
      .then(call)
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(isInputError(error)).toBe(true);
    expect((error as Error).message).toMatch(message);
  });

  test('one set of defaults: without --config, with an empty file, and with model "demo" the run is the same', async () => {
    const demoModel = async () => "/cache/demo-model.gguf";
    const without = resolveGrpoRunConfig(await resolveTrainGrpoConfig(undefined, {}, demoModel));
    const empty = resolveGrpoRunConfig(await resolveTrainGrpoConfig(file("empty.json", "{}"), {}, demoModel));
    const demo = resolveGrpoRunConfig(
      await resolveTrainGrpoConfig(file("demo.json", JSON.stringify({ model: "demo" })), {}, demoModel),
    );
    expect(empty).toEqual(without);
    expect(demo).toEqual(without);
    expect(without).toEqual({
      ...DEFAULT_GRPO_RUN_CONFIG,
      model: "/cache/demo-model.gguf",
      outDir: resolve("runs/grpo"),
    });
    // --turns over the file (multi-turn episodes; the default is 1, single-shot).
    expect(without.turns).toBe(1);
    const turns = resolveGrpoRunConfig(
      await resolveTrainGrpoConfig(file("turns.json", JSON.stringify({ turns: 3 })), { turns: 2 }, demoModel),
    );
    expect(turns).toEqual({ ...without, turns: 2 });
    // A file that sets one field changes that field only.
    const lr = resolveGrpoRunConfig(
      await resolveTrainGrpoConfig(file("lr.json", JSON.stringify({ learningRate: 1e-4 })), {}, demoModel),
    );
    expect(lr).toEqual({ ...without, learningRate: 1e-4 });
  });

  test("bench/grpoDemo.json (the README's GRPO run) is a valid config", () => {
    const demo = JSON.parse(readFileSync("bench/grpoDemo.json", "utf8")) as Partial<GrpoRunConfig>;
    expect(resolveGrpoRunConfig({ ...demo, model: "/models/demo.gguf" })).toMatchObject({
      maxMinutes: 30,
      resampleZeroVarianceRounds: 2,
      trainSplit: "runs/grpo-prompts.jsonl",
    });
  });

  test.each([
    [{}, /model/],
    [{ model: "m.gguf", topP: 0 }, /'topP' no longer exists/],
    [{ model: "m.gguf", scaleRewardsByStd: true }, /scaleRewards/],
    [{ model: "m.gguf", samplerThreads: -1 }, /samplerThreads/],
    [{ model: "m.gguf", groupSize: 1 }, /groupSize/],
    [{ model: "m.gguf", turns: 0 }, /turns = 0 is invalid/],
    [{ model: "m.gguf", extraTurnCost: -0.1 }, /extraTurnCost/],
    [{ model: "m.gguf", warmup: 3 }, /unknown GRPO config field 'warmup'/],
    [{ model: "m.gguf", rewardWeights: { value_linking: "0.2" } }, /rewardWeights/],
    [{ model: "m.gguf", rewardWeights: [0.2] }, /rewardWeights/],
    [{ model: "m.gguf", rewardWeights: { copy: 0.2 } }, /unknown reward component 'copy'/],
  ])("resolveGrpoRunConfig(%j) names the bad field", (partial, message) => {
    expect(() => resolveGrpoRunConfig(partial as never)).toThrow(message);
  });
});
