/**
 * GRPO with sampling and training on the same Vulkan device (lavapipe here), run after run, without glibc's
 * "double free or corruption": docs/native.md, "Lavapipe and stale descriptors". Every run is a child process
 * (the abort kills the process; the device list is fixed when node-llama-cpp first loads the Vulkan build).
 *
 * 1. The extension alone, a reference forward then a training call per iteration (bench/vulkanTrainLoop.ts,
 *    MODE=ref+fixed): before the fix this aborted in the first training call in every run.
 * 2. `gl-rl train grpo --gpu vulkan`, three runs of three steps: node-llama-cpp samples the groups and the
 *    extension trains, both on the device; every step's metrics line names the device and puts the graph on it.
 * In CI (CI=true) a missing Vulkan device fails; elsewhere its absence must be the clear error a user would get.
 */
import { describe, expect, test } from "@jest/globals";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Runs a child to its end, stdout and stderr together (the abort's message goes to stderr). */
function runChild(args: string[], env: Record<string, string>, timeoutMs: number): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      env: { ...process.env, GGML_VK_VISIBLE_DEVICES: "0", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

const HEAP_ABORT = /double free|corrupted|free\(\): invalid|malloc\(\)/;

/** True (and the clear error checked) where this machine has no Vulkan device and this is not CI. */
function vulkanAbsent(run: Exit): boolean {
  if (run.code === 0 || HEAP_ABORT.test(run.output) || /Vulkan\d+ \(/.test(run.output)) return false;
  if (process.env.CI === "true") throw new Error(`no Vulkan device in CI:\n${run.output.slice(-2000)}`);
  expect(run.output).toMatch(/vulkan/i);
  return true;
}

describe("GRPO sharing one Vulkan device (lavapipe)", () => {
  test("the extension alone: a reference forward, then a training call, four times — no heap abort", async () => {
    const run = await runChild(
      ["--import", "tsx", join("bench", "vulkanTrainLoop.ts")],
      { MODE: "ref+fixed", N: "4" },
      240_000,
    );
    if (vulkanAbsent(run)) return;
    expect(run.output).not.toMatch(HEAP_ABORT);
    expect(run.signal).toBeNull();
    expect(run.code).toBe(0);
    expect(run.output).toMatch(/device Vulkan\d+ \(/);
    expect(run.output).toMatch(/\ndone\n/);
  }, 250_000);

  test("train grpo --gpu vulkan: three runs of three steps, sampling and training on the device", async () => {
    const dir = mkdtempSync(join(tmpdir(), "glrl-vulkan-grpo-"));
    try {
      const config = join(dir, "config.json");
      writeFileSync(
        config,
        JSON.stringify({
          groupSize: 2,
          promptsPerStep: 1,
          maxCompletionTokens: 12,
          evalEvery: 0,
          evalLimit: 1,
          checkpointEvery: 0,
        }),
      );
      for (let r = 0; r < 3; r++) {
        const out = join(dir, `run${r}`);
        const run = await runChild(
          [
            join("bin", "gl-rl.mjs"),
            "train",
            "grpo",
            "--config",
            config,
            "--max-steps",
            "3",
            "--gpu",
            "vulkan",
            "--out",
            out,
          ],
          {},
          200_000,
        );
        if (vulkanAbsent(run)) return;
        expect(run.output).not.toMatch(HEAP_ABORT);
        expect({ run: r, signal: run.signal, code: run.code }).toEqual({ run: r, signal: null, code: 0 });
        const steps = readFileSync(join(out, "metrics.jsonl"), "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as { step: number; loss?: number; device?: string; device_node_share?: number })
          .filter((m) => m.loss !== undefined);
        expect(steps.map((m) => m.step)).toEqual([1, 2, 3]);
        for (const m of steps) {
          expect(m.device).toMatch(/^Vulkan\d+ \(/);
          expect(m.device_node_share).toBeGreaterThan(0.9);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 660_000);
});
